#!/usr/bin/env python3
"""Runner (a): aadauth's own verdict on each case of cases.json.

Each case's token is put into the base input of tests/vectors/allowed_vm_system_assigned.json
(login.jwt = token, now = the case's now; config, role, keys and ARM facts unchanged, the
`vault` profile) and evaluated by the release CLI: `aadauth evaluate --input FILE`.
aadauth "accepts" when the output says allowed=true; the base role and ARM facts make the
control case allowed, so a refusal is about the token.

Usage: run_aadauth.py --cases cases.json --bin target/release/aadauth --out verdicts.json
Writes {"runner": "aadauth", "verdicts": {name: {"verdict": "accept"|"refuse"|"error", "detail": str}}}.
Exit status 2 of the CLI (an input error) is recorded as "error": the harness, not the token, is at fault.
"""

import argparse
import copy
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=os.path.join(ROOT, "tests/differential/cases.json"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/aadauth"))
    ap.add_argument("--work", default=os.path.join(ROOT, "target/differential/aadauth-inputs"))
    ap.add_argument("--out", default=os.path.join(ROOT, "target/differential/aadauth.json"))
    args = ap.parse_args()

    corpus = json.load(open(args.cases, encoding="utf-8"))
    with open(os.path.join(ROOT, corpus["base_vector"]), encoding="utf-8") as f:
        base = json.load(f)["input"]
    os.makedirs(args.work, exist_ok=True)
    verdicts = {}
    for case in corpus["cases"]:
        doc = copy.deepcopy(base)
        doc["login"]["jwt"] = case["token"]
        doc["now"] = case["now"]
        path = os.path.join(args.work, case["name"] + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        p = subprocess.run([args.bin, "evaluate", "--input", path], capture_output=True)
        if p.returncode not in (0, 1):
            verdicts[case["name"]] = {
                "verdict": "error",
                "detail": f"exit {p.returncode}: {p.stderr.decode('utf-8', 'replace').strip()}",
            }
            continue
        out = json.loads(p.stdout)
        allowed = out.get("allowed") is True
        if allowed != (p.returncode == 0):
            verdicts[case["name"]] = {"verdict": "error", "detail": f"exit {p.returncode} but allowed={allowed}"}
            continue
        failed = [c["id"] for c in out.get("checks", []) if c.get("outcome") == "fail"]
        verdicts[case["name"]] = {
            "verdict": "accept" if allowed else "refuse",
            "detail": "allowed" if allowed else f"{out.get('status')} {out.get('error')} [{', '.join(failed)}]",
        }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"runner": "aadauth", "profile": "vault", "verdicts": verdicts}, f, indent=1)
    print(f"aadauth: {len(verdicts)} cases, {sum(v['verdict'] == 'accept' for v in verdicts.values())} accepted")


if __name__ == "__main__":
    sys.exit(main())
