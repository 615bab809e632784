#!/usr/bin/env python3
"""The compare step of the differential suite: verdicts of aadauth, jose and PyJWT per case.

A case FAILS when
  - a runner has no verdict for it, or aadauth's runner could not evaluate it ("error");
  - it is the control case and some verifier refuses it;
  - aadauth accepts it and a peer refuses it (printed as AADAUTH ACCEPTS, PEER REFUSES),
    unless the vault profile's spec mandates it (SPEC_MANDATED: one case, exp == now);
  - the verifiers disagree and tests/differential/REPORT.md does not list the case with
    exactly these verdicts, or lists it with the reason "REASON NEEDED" (or none);
  - the verifiers agree but REPORT.md still lists the case.
A REPORT.md row naming no case of the corpus fails too. The observed table is always
written to target/differential-observed.md; with --update it also replaces the table of
REPORT.md (between the markers), keeping the reason of every case already listed and
writing "REASON NEEDED" for new rows, which keeps failing until a person explains them.

Last line: "N passed, M failed" (N + M = cases, plus stale report rows).
"""

import argparse
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNNERS = [("aadauth", "aadauth"), ("jose", "jose"), ("pyjwt", "PyJWT")]
BEGIN = "<!-- observed-disagreements:begin -->"
END = "<!-- observed-disagreements:end -->"
HEADER = "| case | aadauth | jose | PyJWT | reason |\n|---|---|---|---|---|"
NEEDED = "REASON NEEDED"

# The one place where the law for the `vault` profile (../shared/spec/vault-azure-login.md)
# makes aadauth accept what the peers refuse. Nothing else may: every other "aadauth
# accepts, a peer refuses" case fails the run.
SPEC_MANDATED = {
    "exp_equals_now": "vault-azure-login.md §3.2 step 6: expired only when exp is strictly "
                      "before now (go-oidc); required by the core issue's test list",
}


def split_row(line):
    cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
    return cells


def read_report(path):
    """{case: (aadauth, jose, pyjwt, reason)} from the table between the markers."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: the markers {BEGIN} / {END} are missing")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = {}
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        cells = split_row(line)
        if len(cells) != 5:
            raise SystemExit(f"{path}: malformed row: {line}")
        name = cells[0].strip("`")
        rows[name] = (cells[1], cells[2], cells[3], cells[4])
    return text, rows


def render_rows(rows):
    out = [HEADER]
    for name, (a, j, p, reason) in rows:
        out.append(f"| `{name}` | {a} | {j} | {p} | {reason.replace('|', chr(92) + '|')} |")
    return "\n".join(out)

def judge(corpus, results, report):
    """(failures {case: [why]}, findings [line], observed [(case, row)], stale [case])."""
    failures = {}
    findings = []
    observed = []
    names = [c["name"] for c in corpus["cases"]]

    def fail(name, why):
        failures.setdefault(name, []).append(why)

    for case in corpus["cases"]:
        name = case["name"]
        v = {}
        for key, label in RUNNERS:
            r = results[key].get(name)
            if r is None:
                fail(name, f"{label} gave no verdict")
                v[key] = "missing"
            else:
                v[key] = r["verdict"]
                if r["verdict"] not in ("accept", "refuse"):
                    fail(name, f"{label} could not evaluate it: {r['detail']}")
        if case["category"] == "control" and any(x != "accept" for x in v.values()):
            fail(name, "control case not accepted by every verifier: "
                 + "; ".join(f"{label}: {results[key].get(name, {}).get('detail')}" for key, label in RUNNERS))
        peers_refusing = [label for key, label in RUNNERS[1:] if v[key] == "refuse"]
        if v["aadauth"] == "accept" and peers_refusing and name in SPEC_MANDATED:
            findings.append(f"spec-mandated (allowed): {name}: {SPEC_MANDATED[name]}")
        elif v["aadauth"] == "accept" and peers_refusing:
            detail = "; ".join(f"{label}: {results[key][name]['detail']}" for key, label in RUNNERS[1:]
                               if v[key] == "refuse")
            findings.append(f"AADAUTH ACCEPTS, PEER REFUSES: {name} ({case['description']}) -- {detail}")
            fail(name, f"aadauth accepts, {' and '.join(peers_refusing)} refuse{'s' if len(peers_refusing) == 1 else ''}")
        disagree = len({v[k] for k, _ in RUNNERS}) > 1
        known = report.get(name)
        if disagree:
            row = (v["aadauth"], v["jose"], v["pyjwt"])
            reason = known[3] if known else NEEDED
            observed.append((name, row + (reason,)))
            if known is None:
                fail(name, f"disagreement not in REPORT.md: aadauth {row[0]}, jose {row[1]}, PyJWT {row[2]}")
            elif tuple(known[:3]) != row:
                fail(name, f"REPORT.md says aadauth {known[0]}, jose {known[1]}, PyJWT {known[2]}; "
                     f"observed aadauth {row[0]}, jose {row[1]}, PyJWT {row[2]}")
            elif not known[3] or known[3] == NEEDED:
                fail(name, "REPORT.md gives no reason (REASON NEEDED)")
        elif known is not None:
            fail(name, "REPORT.md lists it, but every verifier now gives the same verdict")
    stale = sorted(set(report) - set(names))
    for name in stale:
        fail(name, "REPORT.md names a case that is not in cases.json")
    return failures, findings, observed, stale


def write_observed(path, names, by_name, results, versions, observed):
    details = []
    for name, _ in observed:
        details.append(f"- `{name}`: {by_name[name]['description']}")
        for key, label in RUNNERS:
            details.append(f"  - {label}: {results[key][name]['verdict']}: {results[key][name]['detail']}")
    text = (
        "# Differential suite: observed disagreements\n\n"
        f"Written by tests/differential/compare.py. Runners: aadauth ({versions['aadauth']} profile), "
        f"jose {versions['jose']}, PyJWT {versions['PyJWT']}. {len(names)} cases, "
        f"{len(observed)} disagreements.\n\n"
        + render_rows(observed)
        + "\n\n## What each verifier said\n\n"
        + "\n".join(details)
        + "\n"
    )
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=os.path.join(ROOT, "tests/differential/cases.json"))
    ap.add_argument("--results", default=os.path.join(ROOT, "target/differential"))
    ap.add_argument("--report", default=os.path.join(ROOT, "tests/differential/REPORT.md"))
    ap.add_argument("--observed", default=os.path.join(ROOT, "target/differential-observed.md"))
    ap.add_argument("--update", action="store_true", help="rewrite REPORT.md's table from what was observed")
    args = ap.parse_args()

    corpus = json.load(open(args.cases, encoding="utf-8"))
    results = {}
    versions = {}
    for key, label in RUNNERS:
        with open(os.path.join(args.results, f"{key}.json"), encoding="utf-8") as f:
            doc = json.load(f)
        results[key] = doc["verdicts"]
        versions[label] = doc.get("version") or doc.get("profile") or ""
    report_text, report = read_report(args.report)

    names = [c["name"] for c in corpus["cases"]]
    by_name = {c["name"]: c for c in corpus["cases"]}
    failures, findings, observed, stale = judge(corpus, results, report)
    write_observed(args.observed, names, by_name, results, versions, observed)
    if args.update:
        head, rest = report_text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(f"{head}{BEGIN}\n{render_rows(observed)}\n{END}{tail}")
        print(f"updated {os.path.relpath(args.report, ROOT)} ({len(observed)} rows)")
        report_text, report = read_report(args.report)
        failures, findings, observed, stale = judge(corpus, results, report)

    for line in findings:
        print(line)
    for name in names + stale:
        for why in failures.get(name, []):
            print(f"FAIL {name}: {why}")
    print(f"observed table: {os.path.relpath(args.observed, ROOT)} ({len(observed)} disagreements)")
    total = len(names) + len(stale)
    failed = len(failures)
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
