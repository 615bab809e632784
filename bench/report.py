#!/usr/bin/env python3
"""Merges the rounds of scripts/bench.sh into bench-results/results.{json,md} and chart.svg.

  python3 bench/report.py RAW_DIR OUT_DIR

RAW_DIR holds, per round r: native-r.json (bench/native), node-r.json (bench/node),
python-r.json (bench/python) and filter-r.txt (the filter's own bench, text), plus
meta.json (written by scripts/bench.sh: machine, versions, notes). Any of them may be
missing; the rows they would give are then reported as not measured, with the reason.

Rows with raw samples (native, Node, Python) are pooled over the rounds: median and p99 are
the samples at index floor(q * n) of all rounds' samples, sorted. The filter bench reports
one CPU time per request per round (the median of its batches of 100): its figure is the
median of the rounds' figures, without a p99. ratio = a row's median / the median of Node crypto.verify (the OpenSSL floor).

Best round: each row's lowest per-round median (the filter: its lowest round), and
best-round ratio = that / crypto.verify's lowest per-round median. On a shared machine whose
speed changes between rounds, the pooled medians of two rows can come from different
speeds (one suite running in slow periods, the other in fast ones); a target is reported
PASS only when both the pooled-median ratio and the best-round ratio meet it, so that a
slow period of the reference cannot make a row look fast, nor the other way round.

Python standard library only.
"""

import glob
import json
import math
import os
import re
import sys
from xml.sax.saxutils import escape

FLOOR = "node_crypto_verify"

# Display order, group and label of every row the suites can give.
ROWS = [
    ("native_evaluate_cold", "aadauth native", "native evaluate_json one-shot (JWKS parsed per call)"),
    ("native_evaluate_loaded_keys", "aadauth native", "native evaluate, key set loaded once (new token)"),
    ("native_login_flow_warm", "aadauth native", "native LoginFlow, prepared KeySet (warm adapter)"),
    ("native_evaluate_cold_mimalloc", "aadauth native", "native evaluate_json one-shot, mimalloc (the aadauth binary's allocator)"),
    ("native_evaluate_loaded_keys_mimalloc", "aadauth native", "native evaluate, key set loaded once, mimalloc (the aadauth binary's allocator)"),
    ("native_login_flow_warm_mimalloc", "aadauth native", "native LoginFlow, prepared KeySet, mimalloc"),
    ("native_signature_only", "aadauth native", "native signature only (parse_jws + KeySet::verify)"),
    ("native_gateway_new_token", "aadauth native", "native gateway verify + authorize (new token)"),
    ("native_gateway_cached_token", "aadauth native", "native cached token (TokenCache hit + authorize)"),
    ("native_gate_cached_token", "aadauth native", "native Gate::check, cached token (the API)"),
    ("wasm_evaluate_json_text", "aadauth wasm", "wasm evaluate in Node (cold, JSON text in)"),
    ("wasm_evaluate_object", "aadauth wasm", "wasm evaluate in Node (cold, JS object in)"),
    ("wasm_verifier_evaluate", "aadauth wasm", "wasm Verifier.evaluate, key set loaded once (new token)"),
    ("wasm_gateway_new_token", "aadauth wasm", "wasm Gateway.check, new token"),
    ("wasm_gateway_cached_token", "aadauth wasm", "wasm Gateway.check, cached token"),
    ("wasm_gateway_cached_node_sha", "aadauth wasm", "wasm Gateway.checkCached, cached token (SHA-256 by Node)"),
    ("filter_new_token", "aadauth filter", "filter in wasmtime: new token (verify + role)"),
    ("filter_cached_token", "aadauth filter", "filter in wasmtime: cached token (role only)"),
    ("jose_jwt_verify", "peer", "jose jwtVerify + createLocalJWKSet (Node)"),
    ("pyjwt_decode", "peer", "PyJWT jwt.decode + cryptography (Python)"),
    ("node_crypto_verify", "floor", "Node crypto.verify RSA-SHA256 (OpenSSL floor)"),
    ("python_cryptography_verify", "floor", "Python cryptography RSA verify (OpenSSL)"),
    ("js_json_parse_output", "floor", "JSON.parse of the evaluate output (the output object alone, no wasm)"),
    ("wasm_verifier_evaluate_no_signature", "floor", "wasm Verifier.evaluate without the signature (skip_signature: decode-only)"),
]
GROUP_COLOURS = {
    "aadauth native": "#1f6fb4",
    "aadauth wasm": "#7b4bb7",
    "aadauth filter": "#a0522d",
    "peer": "#e07b00",
    "floor": "#6b6b6b",
}
SUITE_OF = {
    "native": "native bench (bench/native)",
    "native_mimalloc": "native bench built with mimalloc (bench/native --features mimalloc)",
    "node": "Node bench (bench/node)",
    "python": "Python bench (bench/python)",
    "filter": "filter bench (cargo run --release -p aadauth-filter --example bench)",
}


def quantile(sorted_samples, q):
    return sorted_samples[min(len(sorted_samples) - 1, int(q * len(sorted_samples)))]


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def load_json_rounds(raw, suite):
    out = []
    for path in sorted(glob.glob(os.path.join(raw, "%s-*.json" % suite))):
        try:
            with open(path, encoding="utf-8") as f:
                out.append(json.load(f))
        except (OSError, ValueError) as e:
            print("report: skipping %s: %s" % (path, e), file=sys.stderr)
    return out


# The filter bench prints "name   CPU µs   wall µs" lines under a header naming "CPU".
FILTER_LINE = re.compile(r"^(?P<name>\S.*?)\s{2,}(?P<cpu>\d+(?:\.\d+)?)\s+(?P<wall>\d+(?:\.\d+)?)\s*$")


def filter_id(name):
    n = name.lower()
    if "native" in n:
        return None  # the filter bench's own native comparison; bench/native measures it
    if "new token" in n:
        return "filter_new_token"
    if "cached" in n and ("403" in n or "refused" in n):
        return "filter_cached_refused"
    if "cached" in n:
        return "filter_cached_token"
    return "filter_" + re.sub(r"[^a-z0-9]+", "_", n).strip("_")


def parse_filter(text):
    rows, in_table = {}, False
    for line in text.splitlines():
        if "CPU" in line and "wall" in line:
            in_table = True
            continue
        if not in_table:
            continue
        m = FILTER_LINE.match(line.rstrip())
        if not m:
            if line.strip():
                in_table = not line.startswith("requests")
            continue
        rid = filter_id(m.group("name").strip())
        if rid:
            rows[rid] = {"name": m.group("name").strip(), "cpu_us": float(m.group("cpu")), "wall_us": float(m.group("wall"))}
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RAW_DIR OUT_DIR")
    raw, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    meta = {}
    if os.path.exists(os.path.join(raw, "meta.json")):
        with open(os.path.join(raw, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    notes = list(meta.get("notes", []))

    # Pool the samples of every row over the rounds.
    pooled, info, what, suites, names = {}, {}, {}, {}, {}
    for suite in ("native", "native_mimalloc", "node", "python"):
        rounds = load_json_rounds(raw, suite)
        if not rounds:
            continue
        info[suite] = {k: v for k, v in rounds[0].items() if k not in ("rows", "memory", "evaluate_heap")}
        info[suite]["rounds"] = len(rounds)
        for r in rounds:
            for row in r.get("rows", []):
                pooled.setdefault(row["id"], {"samples": [], "round_medians": []})
                pooled[row["id"]]["samples"].extend(row.get("samples_us", []))
                pooled[row["id"]]["round_medians"].append(row["median_us"])
                what[row["id"]] = row.get("what", "")
                suites[row["id"]] = suite
        for note in rounds[-1].get("notes", []):
            if note not in notes:
                notes.append("native: " + note)
    memory = None
    evaluate_heap = None
    native_rounds = load_json_rounds(raw, "native")
    if native_rounds:
        memory = native_rounds[-1].get("memory")
        evaluate_heap = native_rounds[-1].get("evaluate_heap")

    filter_rounds = []
    filter_files = sorted(glob.glob(os.path.join(raw, "filter-*.txt")))
    for path in filter_files:
        with open(path, encoding="utf-8", errors="replace") as f:
            parsed = parse_filter(f.read())
        if parsed:
            filter_rounds.append(parsed)
    if filter_files and not filter_rounds:
        why = "filter bench output not recognised (expected 'name  CPU µs  wall µs' lines; see %s)" % filter_files[0]
        meta.setdefault("skipped", {}).setdefault("filter", why)
        notes.append(why)
    if filter_rounds:
        info["filter"] = {"rounds": len(filter_rounds), "raw": filter_rounds}
        for rid in sorted({k for r in filter_rounds for k in r}):
            cpus = [r[rid]["cpu_us"] for r in filter_rounds if rid in r]
            pooled[rid] = {"filter_means": cpus, "round_medians": cpus}
            names[rid] = "filter in wasmtime: " + next(r[rid]["name"] for r in filter_rounds if rid in r).split(", filter")[0]
            suites[rid] = "filter"
            what[rid] = "CPU time per request, median batch of 100 (proxy_on_context_create + request headers + done/log/delete) in proxy-wasm-testhost, optimised guest code; the filter bench's own tokens"

    results = {}
    for rid, p in pooled.items():
        if "samples" in p and p["samples"]:
            s = sorted(p["samples"])
            results[rid] = {
                "median_us": quantile(s, 0.5),
                "p99_us": quantile(s, 0.99),
                "mean_us": sum(s) / len(s),
                "min_us": s[0],
                "n": len(s),
                "round_medians_us": p["round_medians"],
                "statistic": "per-operation wall time, pooled over rounds",
            }
        elif "filter_means" in p:
            results[rid] = {
                "median_us": median(p["filter_means"]),
                "p99_us": None,
                "mean_us": None,
                "min_us": None,
                "n": len(p["filter_means"]),
                "round_medians_us": p["filter_means"],
                "statistic": "median over rounds of the CPU time per request, each the median batch of 100 (no per-request distribution)",
            }
    for r in results.values():
        r["best_round_us"] = min(r["round_medians_us"]) if r["round_medians_us"] else None
    floor = results.get(FLOOR, {}).get("median_us")
    floor_best = results.get(FLOOR, {}).get("best_round_us")
    for r in results.values():
        r["ratio_to_openssl"] = (r["median_us"] / floor) if floor else None
        r["best_round_ratio_to_openssl"] = (r["best_round_us"] / floor_best) if floor_best and r["best_round_us"] else None

    table = []
    for rid, group, label in ROWS:
        r = results.get(rid)
        entry = {"id": rid, "group": group, "label": label, "what": what.get(rid, "")}
        if r:
            entry.update(r)
            entry["measured"] = True
        else:
            entry["measured"] = False
            entry["why_not"] = why_not(rid, meta, suites)
        table.append(entry)
    known = {rid for rid, _, _ in ROWS}
    extra = [dict(id=rid, group="aadauth filter", label=names.get(rid, rid), measured=True, what=what.get(rid, ""), **results[rid])
             for rid in sorted(results) if rid not in known]
    if filter_rounds:
        notes.append("filter rows: the filter bench (filter/examples/bench.rs) signs its own tokens with its test key (the same claims shape as the vector's; a new-token row needs a distinct token per request), and reports CPU time per request (the thread's CPU clock around batches of 100 requests, the median batch), not wall time; they include the proxy-wasm host calls around the filter")

    targets = evaluate_targets(results)
    doc = {
        "generated_by": "scripts/bench.sh",
        "meta": meta,
        "suites": info,
        "floor": FLOOR,
        "rows": table,
        "extra_rows": extra,
        "memory": memory,
        "evaluate_heap": evaluate_heap,
        "targets": targets,
        "notes": notes,
    }
    with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    md = markdown(doc)
    with open(os.path.join(out_dir, "results.md"), "w", encoding="utf-8") as f:
        f.write(md)
    with open(os.path.join(out_dir, "chart.svg"), "w", encoding="utf-8") as f:
        f.write(svg(doc))
    print(text_table(doc))
    return 0  # a missed target is a result, not an error of the benchmark


def why_not(rid, meta, suites):
    skipped = meta.get("skipped", {})
    if rid.startswith("filter_"):
        return skipped.get("filter", "filter bench not available")
    if rid.endswith("_mimalloc") and "native" not in skipped:
        return "%s did not run (see the notes)" % SUITE_OF["native_mimalloc"]
    if rid.startswith("native_gateway") and "native" not in skipped:
        return skipped.get("cache", "no aadauth::cache (src/cache.rs) in this build")
    if rid.startswith("wasm_") or rid == "js_json_parse_output":
        return skipped.get("node", skipped.get("wasm", "pkg/ is not built (scripts/build-wasm.sh)"))
    for suite in ("native", "python"):
        if rid.startswith(suite) or (suite == "python" and rid.startswith("pyjwt")):
            return skipped.get(suite, "%s did not run" % SUITE_OF[suite])
    return skipped.get("node", "%s did not run" % SUITE_OF["node"])


def evaluate_targets(results):
    """The issue's targets, each judged on two statistics (see the module doc): the pooled
    medians and the best rounds. PASS needs both; the detail gives both."""
    def med(rid):
        r = results.get(rid)
        return r["median_us"] if r else None

    def best(rid):
        r = results.get(rid)
        return r.get("best_round_us") if r else None

    floor, jose = med(FLOOR), med("jose_jwt_verify")
    floor_b, jose_b = best(FLOOR), best("jose_jwt_verify")
    out = []

    def add(name, ok, detail):
        out.append({"target": name, "result": "N/A" if ok is None else ("PASS" if ok else "FAIL"), "detail": detail})

    def verdict(ok_median, ok_best, detail):
        """PASS needs both statistics; a disagreement is named in the detail."""
        if ok_median != ok_best:
            detail += ("; the two statistics disagree (%s by pooled medians, %s by best rounds): "
                       "the machine's speed changed between rounds, see round_medians_us in results.json"
                       % ("met" if ok_median else "missed", "met" if ok_best else "missed"))
        return ok_median and ok_best, detail

    def ratio_limit(name, rid, limit, what, extra=""):
        v, vb = med(rid), best(rid)
        if v is None or not floor or vb is None or not floor_b:
            add(name, None, "not measured")
            return
        ok, detail = verdict(
            v <= limit * floor, vb <= limit * floor_b,
            "%s %.1f µs = %.2f× crypto.verify %.1f µs (limit %g×); best rounds %.1f / %.1f µs = %.2f×%s"
            % (what, v, v / floor, floor, limit, vb, floor_b, vb / floor_b, extra))
        add(name, ok, detail)

    # "Cold" = a token never seen before (no cache). The peers hold their keys prepared
    # (jose's createLocalJWKSet, a KeyObject), so the like-for-like rows are those with the
    # key set loaded once; the one-shot rows (keys parsed from the input on every call) are
    # given in the detail.
    # Natively the allocator is the program's, not the core's: judged as the `aadauth` binary
    # runs (mimalloc) and with the system's malloc, each on its own.
    for suffix, which in (("_mimalloc", "mimalloc, the aadauth binary's allocator"), ("", "system malloc")):
        ev1 = med("native_evaluate_cold" + suffix)
        one_shot = "; one-shot evaluate_json (JWKS parsed per call) %.1f µs = %.2f×" % (ev1, ev1 / floor) if ev1 and floor else ""
        ratio_limit("native cold evaluate (%s) ≤ 1.5× crypto.verify" % which, "native_evaluate_loaded_keys" + suffix, 1.5,
                    "evaluate, key set loaded once:", one_shot)

    wv, wv1, wg = med("wasm_verifier_evaluate"), med("wasm_evaluate_json_text"), med("wasm_gateway_new_token")
    parse, unsigned = med("js_json_parse_output"), med("wasm_verifier_evaluate_no_signature")
    extra = ""
    if unsigned and floor:
        extra += "; without the signature (skip_signature) %.1f µs = %.2f×" % (unsigned, unsigned / floor)
    if parse and floor:
        extra += "; of which JSON.parse of the output alone %.1f µs = %.2f×" % (parse, parse / floor)
    if wv1 and floor:
        extra += "; one-shot evaluate(JSON text) %.1f µs = %.2f×" % (wv1, wv1 / floor)
    if wg and floor and jose:
        extra += "; Gateway.check new token %.1f µs = %.2f× (%.2f× jose)" % (wg, wg / floor, wg / jose)
    ratio_limit("wasm cold evaluate in Node ≤ 3× crypto.verify", "wasm_verifier_evaluate", 3,
                "Verifier.evaluate", extra)
    wvb = best("wasm_verifier_evaluate")
    if wv is not None and jose and wvb is not None and jose_b:
        ok, detail = verdict(wv < jose, wvb < jose_b,
                             "Verifier.evaluate %.1f µs vs jose jwtVerify %.1f µs (%.2f× jose); best rounds %.1f vs %.1f µs (%.2f×)%s"
                             % (wv, jose, wv / jose, wvb, jose_b, wvb / jose_b, extra))
        add("wasm cold evaluate in Node faster than jose", ok, detail)
    else:
        add("wasm cold evaluate in Node faster than jose", None, "not measured")

    # Cached token: every build on its own.
    for build, rid in (("native", "native_gate_cached_token"), ("wasm in Node, check", "wasm_gateway_cached_token"),
                       ("wasm in Node, checkCached with Node's SHA-256", "wasm_gateway_cached_node_sha"),
                       ("filter in the test host", "filter_cached_token")):
        v, vb = med(rid), best(rid)
        name = "cached token, %s: ≥ 20× faster than jose" % build
        if v and jose and vb and jose_b:
            ok, detail = verdict(jose / v >= 20, jose_b / vb >= 20,
                                 "%s %.2f µs: jose %.1f µs / %.2f µs = %.1f×; best rounds %.1f / %.2f µs = %.1f×"
                                 % (rid, v, jose, v, jose / v, jose_b, vb, jose_b / vb))
            add(name, ok, detail)
        else:
            add(name, None, "%s not measured" % rid)
    return out


def ordered(doc):
    """The rows in display order: the filter bench's extra rows after the other filter rows."""
    rows = list(doc["rows"])
    at = max((i for i, r in enumerate(rows) if r["id"].startswith("filter_")), default=len(rows) - 1) + 1
    return rows[:at] + list(doc["extra_rows"]) + rows[at:]


def fmt(x, digits=1):
    if x is None:
        return "—"
    if x < 10:
        return "%.2f" % x
    return "%.*f" % (digits, x)


def fmt_ratio(x):
    if x is None:
        return "—"
    return "%.3f×" % x if x < 0.1 else "%.2f×" % x


def markdown(doc):
    m = doc["meta"]
    lines = ["# aadauth benchmark results", ""]
    lines.append("Generated by `scripts/bench.sh` on %s: one run, the same token (`%s`), the same key and the same `now` for every row but the filter bench's (see the notes)." % (m.get("date", "?"), m.get("vector", "tests/vectors/allowed_vm_system_assigned.json")))
    lines.append("")
    env = []
    for k, label in (("cpu", "CPU"), ("cores", "cores"), ("load_before", "load average before"), ("load_after", "after"), ("git", "git"), ("rustc", "rustc"), ("node", "Node"), ("python", "Python")):
        if m.get(k):
            env.append("%s: %s" % (label, m[k]))
    s = doc["suites"]
    if "node" in s:
        env.append("jose %s, OpenSSL %s (Node)" % (s["node"].get("jose"), s["node"].get("openssl")))
    if "python" in s:
        env.append("PyJWT %s, cryptography %s" % (s["python"].get("pyjwt"), s["python"].get("cryptography")))
    if env:
        lines.append("Machine and versions: " + "; ".join(env) + ".")
        lines.append("")
    lines.append("| # | row | median µs | p99 µs | ratio to OpenSSL (crypto.verify) | best round µs | best-round ratio | samples |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(ordered(doc), 1):
        if r["measured"]:
            n = "%d rounds (CPU)" % r["n"] if r.get("p99_us") is None else str(r["n"])
            lines.append("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
                i, r["label"], fmt(r["median_us"]), fmt(r["p99_us"]), fmt_ratio(r.get("ratio_to_openssl")),
                fmt(r.get("best_round_us")), fmt_ratio(r.get("best_round_ratio_to_openssl")), n))
        else:
            lines.append("| %d | %s | — | — | — | — | — | not measured: %s |" % (i, r["label"], r["why_not"]))
    lines.append("")
    lines.append("## Targets")
    lines.append("")
    for t in doc["targets"]:
        lines.append("- **%s** %s — %s" % (t["result"], t["target"], t["detail"]))
    lines.append("")
    mem = doc.get("memory")
    lines.append("## Memory of the verified-token cache")
    lines.append("")
    if mem:
        lines.append("{:,} distinct verified entries ({}) inserted into a `TokenCache` of capacity {:,}, counted by a global allocator (bytes requested):".format(mem["entries"], mem.get("value", "GatewayClaims"), mem["entries"]))
        lines.append("")
        lines.append("- per cached token: **%.0f bytes** retained (peak during insertion %.0f bytes/entry; %.1f allocations/entry; `GatewayClaims::approx_bytes` estimates %d bytes for the value alone)" % (mem["bytes_per_entry"], mem["peak_bytes_per_entry"], mem["allocations_per_entry"], mem["approx_bytes_estimate"]))
        lines.append("- 10,000-entry cache: **%.2f MiB** retained, peak %.2f MiB" % (mem["cache_bytes"] / 1048576, mem["peak_bytes"] / 1048576))
    else:
        lines.append("Not measured: %s." % doc["meta"].get("skipped", {}).get("cache", "no aadauth::cache in this build"))
    lines.append("")
    heap = doc.get("evaluate_heap")
    if heap:
        lines.append("## Heap of one evaluation")
        lines.append("")
        lines.append(evaluate_heap_line(heap))
        lines.append("")
    lines.append("## How the rows were measured")
    lines.append("")
    for r in ordered(doc):
        if r["measured"] and r.get("what"):
            lines.append("- %s: %s" % (r["label"], r["what"]))
    lines.append("")
    lines.append("Median and p99: per-operation wall time, samples pooled over all rounds, sample at index floor(q·n) of the sorted samples. Filter rows: the filter bench reports a CPU time per request per round (the median batch of 100 requests); the figure is the median over rounds, without a p99. Ratio: the row's median / Node crypto.verify's median. Best round: the row's lowest per-round median (per-round figures in results.json, `round_medians_us`); best-round ratio: that / crypto.verify's lowest per-round median. A target is PASS only when it is met by both ratios: the machine is shared, and its speed can change between the rounds of one suite and the next.")
    if doc["notes"]:
        lines.append("")
        lines.append("## Notes")
        lines.append("")
        for n in doc["notes"]:
            lines.append("- " + n)
    lines.append("")
    return "\n".join(lines)


def text_table(doc):
    out = []
    w = max(len(r["label"]) for r in ordered(doc))
    out.append("%-*s %11s %11s %9s %11s %9s" % (w, "row", "median µs", "p99 µs", "ratio", "best µs", "ratio"))
    for r in ordered(doc):
        if r["measured"]:
            out.append("%-*s %11s %11s %9s %11s %9s" % (w, r["label"], fmt(r["median_us"]), fmt(r["p99_us"]), fmt_ratio(r.get("ratio_to_openssl")),
                                                     fmt(r.get("best_round_us")), fmt_ratio(r.get("best_round_ratio_to_openssl"))))
        else:
            out.append("%-*s %11s   not measured: %s" % (w, r["label"], "—", r["why_not"]))
    out.append("")
    for t in doc["targets"]:
        out.append("%s  %s — %s" % (t["result"], t["target"], t["detail"]))
    mem = doc.get("memory")
    if mem:
        out.append("")
        out.append("cache memory: %.0f bytes per cached token; 10,000-entry cache %.2f MiB (peak %.2f MiB)" % (mem["bytes_per_entry"], mem["cache_bytes"] / 1048576, mem["peak_bytes"] / 1048576))
    heap = doc.get("evaluate_heap")
    if heap:
        out.append("")
        out.append(evaluate_heap_line(heap))
    return "\n".join(out) + "\n"


def evaluate_heap_line(heap):
    """One native evaluation's heap, as bench/native counts it: why the allocator shows in
    the native evaluate rows (each allocation is a malloc and a free)."""
    return ("native %s: %d allocations, %.1f KiB requested, peak %.1f KiB live, of which the output keeps %.1f KiB (bytes as requested, without the allocator's per-block overhead)"
            % (heap["call"], heap["allocations"], heap["requested_bytes"] / 1024, heap["peak_bytes"] / 1024, heap["output_bytes"] / 1024))


def svg(doc):
    """A horizontal bar chart of the medians on a log scale, p99 as a whisker."""
    rows = [r for r in ordered(doc) if r["measured"]]
    skipped = [r for r in doc["rows"] if not r["measured"]]
    left, right, top, bar_h, gap = 380, 170, 78, 18, 10
    plot_w = 560
    width = left + plot_w + right
    height = top + len(rows) * (bar_h + gap) + 72 + 16 * len(skipped)
    values = [r["median_us"] for r in rows] + [r["p99_us"] for r in rows if r.get("p99_us")]
    if not values:
        values = [1.0]
    lo = 10 ** math.floor(math.log10(max(min(values), 1e-3)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    if hi <= lo:
        hi = lo * 10

    def x(v):
        v = min(max(v, lo), hi)
        return left + plot_w * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    e = lambda s: escape(str(s))  # noqa: E731
    p = []
    p.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">' % (width, height, width, height))
    p.append('<rect width="100%" height="100%" fill="#ffffff"/>')
    p.append('<text x="%d" y="22" font-size="15" font-weight="600">aadauth vs peers on the same token: median µs per operation (log scale), whisker = p99</text>' % 12)
    sub = "%s · %s" % (doc["meta"].get("date", ""), doc["meta"].get("cpu", ""))
    p.append('<text x="12" y="40" fill="#555">%s · ratio = median / Node crypto.verify median</text>' % e(sub))
    # Legend.
    lx = 12
    for g, c in GROUP_COLOURS.items():
        p.append('<rect x="%.0f" y="50" width="10" height="10" fill="%s"/>' % (lx, c))
        p.append('<text x="%.0f" y="59" fill="#333">%s</text>' % (lx + 14, e(g)))
        lx += 34 + 7.5 * len(g)
    # Grid: decades and their 2x/5x.
    bottom = top + len(rows) * (bar_h + gap)
    d = lo
    while d <= hi * 1.0001:
        for m in (1, 2, 5):
            v = d * m
            if v > hi * 1.0001:
                break
            gx = x(v)
            major = m == 1
            p.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1"/>' % (gx, top - 6, gx, bottom, "#c8c8c8" if major else "#ececec"))
            if major or plot_w / (math.log10(hi) - math.log10(lo)) > 220:
                p.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>' % (gx, bottom + 16, e(("%g" % v) + " µs")))
        d *= 10
    floor = next((r["median_us"] for r in rows if r["id"] == FLOOR), None)
    if floor:
        fx = x(floor)
        p.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-dasharray="4 3"/>' % (fx, top - 10, fx, bottom))
        p.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#333" font-size="11">OpenSSL floor</text>' % (fx, top - 13))
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        c = GROUP_COLOURS.get(r["group"], "#999")
        label = r["label"] if len(r["label"]) <= 58 else r["label"][:57] + "…"
        p.append('<text x="%d" y="%d" text-anchor="end" fill="#222">%s</text>' % (left - 8, y + bar_h - 5, e(label)))
        bx = x(r["median_us"])
        p.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: median %s µs, p99 %s µs</title></rect>' % (left, y, max(bx - left, 1), bar_h, c, e(r["label"]), fmt(r["median_us"]), fmt(r.get("p99_us"))))
        end = bx
        if r.get("p99_us"):
            px = x(r["p99_us"])
            mid = y + bar_h / 2
            p.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222" stroke-width="1"/>' % (bx, mid, px, mid))
            p.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222" stroke-width="1"/>' % (px, y + 4, px, y + bar_h - 4))
            end = max(end, px)
        label = "%s µs · %s" % (fmt(r["median_us"]), fmt_ratio(r.get("ratio_to_openssl")))
        if r.get("p99_us") is None:
            label += " (CPU)"
        p.append('<text x="%.1f" y="%d" fill="#222">%s</text>' % (end + 6, y + bar_h - 5, e(label)))
    y = bottom + 36
    if any(r["id"].startswith("filter_") for r in rows):
        p.append('<text x="12" y="%d" fill="#777">filter rows: the filter bench\'s own tokens (same claims shape), CPU time per request through the wasm host (median batch), no p99</text>' % y)
        y += 16
    for r in skipped:
        p.append('<text x="12" y="%d" fill="#777">not measured: %s (%s)</text>' % (y, e(r["label"]), e(r["why_not"])))
        y += 16
    p.append("</svg>")
    return "\n".join(p) + "\n"


if __name__ == "__main__":
    sys.exit(main())
