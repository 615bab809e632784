#!/usr/bin/env python3
"""The Python rows of scripts/bench.sh, on the same token, key and time, in one process.

  pyjwt_decode              jwt.decode(token, key, algorithms=["RS256"], audience=...,
                            issuer=...) with the key loaded once (RSAAlgorithm.from_jwk ->
                            a cryptography RSAPublicKey): header, RS256 via `cryptography`
                            (OpenSSL), iss, aud, exp, nbf, iat.
  python_cryptography_verify  public_key.verify(signature, signing_input, PKCS1v15(),
                            SHA256()): the signature alone through `cryptography`.

The clock: PyJWT has no "current date" option and reads datetime.now() on every decode.
The vector's token was issued for its own `now` (long past), so the bench freezes PyJWT's
clock at the vector's `now` (a datetime subclass whose now() returns that instant, installed
as jwt.api_jwt.datetime) rather than turning verify_exp off: every claim check PyJWT does
normally still runs, at the cost of one datetime construction, as with the real clock.

  python3 bench/python/bench.py [--vector FILE] [--iterations N] [--json FILE]

Each operation is timed on its own with time.perf_counter_ns after a warm-up, the rows
taking turns.
"""

import argparse
import base64
import json
import os
import sys
import time
from datetime import datetime, timezone

import cryptography
import jwt
import jwt.api_jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from jwt.algorithms import RSAAlgorithm

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VECTOR = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "vectors", "allowed_vm_system_assigned.json"))


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def stats(samples):
    s = sorted(samples)
    at = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    return {
        "n": len(s),
        "median_us": at(0.5),
        "p99_us": at(0.99),
        "mean_us": sum(s) / len(s),
        "min_us": s[0],
    }


SLICES = 10


def measure(fns, iterations, warmup):
    """Warms every function up, then times each call, the functions taking turns in SLICES
    slices of their samples (a busy spell of the machine does not land on one row only)."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    clock = time.perf_counter_ns
    samples = [[] for _ in fns]
    for i in range(SLICES):
        n = iterations * (i + 1) // SLICES - iterations * i // SLICES
        for fn, out in zip(fns, samples):
            for _ in range(n):
                t0 = clock()
                fn()
                out.append((clock() - t0) / 1000.0)
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vector", default=DEFAULT_VECTOR)
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--json")
    a = ap.parse_args()
    warmup = max(200, a.iterations // 5)

    with open(a.vector, encoding="utf-8") as f:
        doc = json.load(f)
    inp = doc.get("input", doc)
    token = inp["login"]["jwt"]
    jwks = inp["keys"] if not isinstance(inp["keys"], str) else json.loads(inp["keys"])
    now = inp["now"]
    issuer = "https://sts.windows.net/%s/" % inp["config"]["tenant_id"]
    audience = inp["config"]["resource"]

    header = json.loads(b64url(token.split(".")[0]))
    jwk = next((k for k in jwks["keys"] if k.get("kid") == header.get("kid")), jwks["keys"][0])
    public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))

    # Freeze PyJWT's clock at the vector's now (see the module docstring).
    frozen = datetime.fromtimestamp(now, tz=timezone.utc)

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return frozen if tz is not None else frozen.replace(tzinfo=None)

    jwt.api_jwt.datetime = FrozenDatetime

    def decode():
        return jwt.decode(token, public_key, algorithms=["RS256"], audience=audience, issuer=issuer)

    signing_input = token[: token.rfind(".")].encode()
    signature = b64url(token[token.rfind(".") + 1 :])
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def raw_verify():
        public_key.verify(signature, signing_input, pkcs1, sha256)  # raises when invalid

    # Both must accept the token before their times mean anything.
    claims = decode()
    if not claims.get("oid"):
        sys.exit("PyJWT returned no oid")
    raw_verify()

    cases = [
        ("pyjwt_decode", "PyJWT jwt.decode (cryptography)",
         "jwt.decode: RS256 via cryptography (OpenSSL), iss, aud, exp/nbf/iat at the frozen now; key loaded once",
         decode),
        ("python_cryptography_verify", "Python cryptography verify",
         "RSAPublicKey.verify(signature, signing_input, PKCS1v15, SHA256): the signature alone",
         raw_verify),
    ]
    results = {
        "tool": "bench/python/bench.py",
        "vector": a.vector,
        "python": sys.version.split()[0],
        "pyjwt": jwt.__version__,
        "cryptography": cryptography.__version__,
        "iterations": a.iterations,
        "warmup": warmup,
        "clock": "frozen at the vector's now (jwt.api_jwt.datetime replaced); verify_exp stays on",
        "rows": [],
    }
    all_samples = measure([c[3] for c in cases], a.iterations, warmup)
    for (rid, label, what, _), samples in zip(cases, all_samples):
        row = {"id": rid, "label": label, "what": what}
        row.update(stats(samples))
        row["samples_us"] = [round(x, 3) for x in samples]
        results["rows"].append(row)

    print(
        "%s: %d iterations after %d warm-up, Python %s, PyJWT %s, cryptography %s"
        % (a.vector, a.iterations, warmup, results["python"], results["pyjwt"], results["cryptography"]),
        file=sys.stderr,
    )
    for r in results["rows"]:
        print("%-40s %10.1f %11.1f %11.1f" % (r["label"], r["median_us"], r["p99_us"], r["mean_us"]), file=sys.stderr)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(results, f)
            f.write("\n")


if __name__ == "__main__":
    main()
