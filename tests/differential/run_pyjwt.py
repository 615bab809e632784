#!/usr/bin/env python3
"""Runner (c): PyJWT's verdict on each case of cases.json.

Settings chosen to match what Vault enforces (spec/vault-azure-login.md §3.2, §3.3):
- key: the JWKS entry of the base input whose kid equals the header's kid, as a PyJWK with
  algorithm RS256. A header without kid tries every key of the set in turn (go-oidc and
  jose's local key set do the same); a kid that no entry has is refused.
- algorithms=['RS256']; issuer = https://sts.windows.net/{tenant_id}/; audience =
  config.resource; leeway=0 (Vault's effective leeway on exp and nbf, see run_jose.mjs);
  options: require exp, iss and aud; verify_iat False (Vault never compares iat).
- time: PyJWT reads the system clock (datetime.now). Each decode runs inside freezegun's
  freeze_time(the case's now), so the evaluation time is exactly the case's `now`, as for
  aadauth and jose.
Any exception is a refusal; its class and message are the detail.

Usage: run_pyjwt.py CASES.json BASE_VECTOR.json OUT.json
"""

import datetime
import json
import sys

import jwt
from freezegun import freeze_time
from jwt import PyJWK


def verify(token, now, keys, issuer, audience):
    header = jwt.get_unverified_header(token)
    kid = header.get("kid")
    if "kid" in header:
        candidates = [k for k in keys if k.get("kid") == kid]
    else:
        candidates = list(keys)
    if not candidates:
        raise LookupError(f"no key in the set has kid {kid!r}")
    last = None
    at = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    for entry in candidates:
        key = PyJWK(entry, algorithm="RS256")
        try:
            with freeze_time(at):
                jwt.decode(
                    token,
                    key=key,
                    algorithms=["RS256"],
                    audience=audience,
                    issuer=issuer,
                    leeway=0,
                    options={"require": ["exp", "iss", "aud"], "verify_iat": False},
                )
            return
        except jwt.InvalidSignatureError as e:  # try the next candidate key
            last = e
    raise last


def main():
    cases_path, base_path, out_path = sys.argv[1:4]
    corpus = json.load(open(cases_path, encoding="utf-8"))
    base = json.load(open(base_path, encoding="utf-8"))["input"]
    assert base["config"].get("environment", "AzurePublicCloud") == "AzurePublicCloud"
    issuer = f"https://sts.windows.net/{base['config']['tenant_id']}/"
    audience = base["config"]["resource"]
    keys = base["keys"]["keys"]
    verdicts = {}
    for case in corpus["cases"]:
        try:
            verify(case["token"], case["now"], keys, issuer, audience)
            verdicts[case["name"]] = {"verdict": "accept", "detail": "verified"}
        except Exception as e:  # noqa: BLE001 - every failure is a refusal
            verdicts[case["name"]] = {"verdict": "refuse", "detail": f"{type(e).__name__}: {e}"}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"runner": "PyJWT", "version": jwt.__version__, "verdicts": verdicts}, f, indent=1)
    accepted = sum(v["verdict"] == "accept" for v in verdicts.values())
    print(f"PyJWT {jwt.__version__}: {len(verdicts)} cases, {accepted} accepted")


if __name__ == "__main__":
    main()
