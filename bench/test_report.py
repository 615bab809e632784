#!/usr/bin/env python3
"""Tests of bench/report.py (python3 -m unittest bench/test_report.py): its target verdicts,
and the native evaluation's heap figures in both reports.

A target is PASS only when both statistics meet it: the pooled medians and the best rounds.
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def row(round_medians, median=None):
    """A result as report.main() builds it: median (pooled) and per-round medians."""
    ms = sorted(round_medians)
    return {
        "median_us": median if median is not None else ms[len(ms) // 2],
        "round_medians_us": list(round_medians),
        "best_round_us": min(round_medians),
    }


def results(**rows):
    base = {
        "node_crypto_verify": row([27.0, 27.2, 26.9]),
        "jose_jwt_verify": row([240.0, 236.0, 250.0]),
    }
    base.update(rows)
    return base


def verdict(targets, prefix):
    matches = [t for t in targets if t["target"].startswith(prefix)]
    assert len(matches) == 1, (prefix, targets)
    return matches[0]


class TargetVerdicts(unittest.TestCase):
    def test_pass_when_both_statistics_meet_the_limit(self):
        t = verdict(report.evaluate_targets(results(native_evaluate_loaded_keys=row([38.0, 39.0, 40.0]))), "native cold evaluate (system")
        self.assertEqual(t["result"], "PASS")
        self.assertNotIn("disagree", t["detail"])

    def test_fail_when_only_a_slow_reference_meets_it(self):
        # crypto.verify ran in slow periods (40 µs in two rounds of three), the row in fast ones:
        # the pooled ratio is 55/40 = 1.38×, the best rounds' 55/27 = 2.04×.
        r = results(node_crypto_verify=row([40.0, 41.0, 27.0]), native_evaluate_loaded_keys=row([55.0, 55.5, 56.0]))
        t = verdict(report.evaluate_targets(r), "native cold evaluate (system")
        self.assertEqual(t["result"], "FAIL")
        self.assertIn("disagree (met by pooled medians, missed by best rounds)", t["detail"])

    def test_fail_when_only_the_best_rounds_meet_it(self):
        r = results(native_evaluate_loaded_keys=row([39.0, 60.0, 61.0]))
        t = verdict(report.evaluate_targets(r), "native cold evaluate (system")
        self.assertEqual(t["result"], "FAIL")
        self.assertIn("disagree (missed by pooled medians, met by best rounds)", t["detail"])

    def test_each_allocator_is_judged_on_its_own_row(self):
        r = results(native_evaluate_loaded_keys=row([44.0, 45.0, 46.0]),
                    native_evaluate_loaded_keys_mimalloc=row([36.0, 36.5, 37.0]))
        targets = report.evaluate_targets(r)
        self.assertEqual(verdict(targets, "native cold evaluate (system")["result"], "FAIL")
        self.assertEqual(verdict(targets, "native cold evaluate (mimalloc")["result"], "PASS")
        self.assertIn("36.5 µs", verdict(targets, "native cold evaluate (mimalloc")["detail"])

    def test_wasm_limit_is_three_times(self):
        ok = verdict(report.evaluate_targets(results(wasm_verifier_evaluate=row([80.0, 80.5, 81.0]))), "wasm cold evaluate in Node ≤ 3×")
        self.assertEqual(ok["result"], "PASS")
        over = verdict(report.evaluate_targets(results(wasm_verifier_evaluate=row([82.0, 83.0, 84.0]))), "wasm cold evaluate in Node ≤ 3×")
        self.assertEqual(over["result"], "FAIL")
        faster = verdict(report.evaluate_targets(results(wasm_verifier_evaluate=row([141.0, 142.0, 143.0]))), "wasm cold evaluate in Node faster than jose")
        self.assertEqual(faster["result"], "PASS")

    def test_wasm_detail_gives_the_output_parse_floor(self):
        r = results(wasm_verifier_evaluate=row([120.0, 121.0, 122.0]), js_json_parse_output=row([16.0, 16.2, 16.4]))
        detail = verdict(report.evaluate_targets(r), "wasm cold evaluate in Node ≤ 3×")["detail"]
        # Pooled crypto.verify 27.0 µs: 16.2 / 27.0 = 0.60×.
        self.assertIn("JSON.parse of the output alone 16.2 µs = 0.60×", detail)
        unmeasured = verdict(report.evaluate_targets(results(wasm_verifier_evaluate=row([120.0]))), "wasm cold evaluate in Node ≤ 3×")
        self.assertNotIn("JSON.parse", unmeasured["detail"])
        self.assertNotIn("without the signature", unmeasured["detail"])

    def test_wasm_detail_gives_the_evaluation_without_the_signature(self):
        r = results(wasm_verifier_evaluate=row([120.0, 121.0, 122.0]),
                    wasm_verifier_evaluate_no_signature=row([56.0, 56.7, 57.0]),
                    js_json_parse_output=row([16.0, 16.2, 16.4]))
        detail = verdict(report.evaluate_targets(r), "wasm cold evaluate in Node ≤ 3×")["detail"]
        # Pooled crypto.verify 27.0 µs: 56.7 / 27.0 = 2.10×, named before the JSON.parse part of it.
        self.assertIn("without the signature (skip_signature) 56.7 µs = 2.10×; of which JSON.parse of the output alone 16.2 µs", detail)

    def test_cached_needs_twenty_times_jose_on_both(self):
        r = results(native_gate_cached_token=row([11.0, 12.5, 12.6]))
        t = verdict(report.evaluate_targets(r), "cached token, native")
        # Pooled: 240 / 12.5 = 19.2× (missed); best rounds: 236 / 11 = 21.5× (met).
        self.assertEqual(t["result"], "FAIL")
        r = results(native_gate_cached_token=row([1.0, 1.1, 1.2]))
        self.assertEqual(verdict(report.evaluate_targets(r), "cached token, native")["result"], "PASS")

    def test_not_measured_is_not_applicable(self):
        targets = report.evaluate_targets(results())
        self.assertEqual(verdict(targets, "native cold evaluate (system")["result"], "N/A")
        self.assertEqual(verdict(targets, "native cold evaluate (mimalloc")["result"], "N/A")
        self.assertEqual(verdict(targets, "cached token, filter")["result"], "N/A")
        self.assertEqual(verdict(report.evaluate_targets({}), "wasm cold evaluate in Node faster")["result"], "N/A")


def run_report(native_rounds):
    """report.main() on a raw folder holding these native rounds: (results.md, what it
    printed, results.json)."""
    with tempfile.TemporaryDirectory() as raw, tempfile.TemporaryDirectory() as out:
        for i, r in enumerate(native_rounds, 1):
            with open(os.path.join(raw, "native-%d.json" % i), "w", encoding="utf-8") as f:
                json.dump(r, f)
        printed = io.StringIO()
        argv = sys.argv
        sys.argv = ["report.py", raw, out]
        try:
            with contextlib.redirect_stdout(printed):
                assert report.main() == 0
        finally:
            sys.argv = argv
        with open(os.path.join(out, "results.md"), encoding="utf-8") as f:
            md = f.read()
        with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
            doc = json.load(f)
    return md, printed.getvalue(), doc


class EvaluateHeap(unittest.TestCase):
    ROWS = [{"id": "native_evaluate_loaded_keys", "median_us": 40.0, "samples_us": [40.0, 41.0]}]
    HEAP = {"call": "evaluate_json_with_keys (key set loaded once)", "allocations": 253,
            "requested_bytes": 34048, "peak_bytes": 23439, "output_bytes": 12477}

    def test_the_last_rounds_heap_reaches_both_reports(self):
        md, printed, doc = run_report([
            {"rows": self.ROWS, "evaluate_heap": dict(self.HEAP, allocations=999)},
            {"rows": self.ROWS, "evaluate_heap": self.HEAP},
        ])
        # 34048 B = 33.2 KiB, 23439 B = 22.9 KiB, 12477 B = 12.2 KiB.
        line = "253 allocations, 33.2 KiB requested, peak 22.9 KiB live, of which the output keeps 12.2 KiB"
        self.assertIn("## Heap of one evaluation", md)
        self.assertIn(line, md)
        self.assertIn(line, printed)
        self.assertEqual(doc["evaluate_heap"], self.HEAP)
        self.assertNotIn("evaluate_heap", doc["suites"]["native"])

    def test_no_heap_section_without_the_figures(self):
        md, printed, doc = run_report([{"rows": self.ROWS}])
        self.assertNotIn("Heap of one evaluation", md)
        self.assertNotIn("allocations,", printed)
        self.assertIsNone(doc["evaluate_heap"])

if __name__ == "__main__":
    unittest.main()
