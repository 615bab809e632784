#!/usr/bin/env python3
"""aadauth from Python (ctypes, standard library only).

Evaluates the demo cases through libaadauth, decodes their tokens, and logs each in again
through the step API, answering "need keys" / "need arm" from the case's "keys" / "arm"
members as a real host would from HTTP.

    python3 demo.py [demo/demo.json | tests/vectors/NAME.json] [--lib path/to/libaadauth.so]
"""

import ctypes
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


class AadauthError(Exception):
    """The library's error envelope: {"error": {"code", "field", "message"}}."""

    def __init__(self, error):
        super().__init__(f"{error['code']}: {error.get('field')}: {error['message']}")
        self.code = error["code"]
        self.field = error.get("field")
        self.message = error["message"]


class Aadauth:
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        # Results are `char *` the library allocated: keep them as raw pointers so that
        # they can be given back to aadauth_free.
        for name, args in [
            ("aadauth_evaluate", [ctypes.c_char_p]),
            ("aadauth_decode_token", [ctypes.c_char_p, ctypes.c_int64]),
            ("aadauth_login_next", [ctypes.c_void_p]),
            ("aadauth_login_provide_keys", [ctypes.c_void_p, ctypes.c_char_p]),
            ("aadauth_login_provide_arm", [ctypes.c_void_p, ctypes.c_char_p]),
        ]:
            f = getattr(lib, name)
            f.argtypes = args
            f.restype = ctypes.c_void_p
        lib.aadauth_login_start.argtypes = [ctypes.c_char_p]
        lib.aadauth_login_start.restype = ctypes.c_void_p
        lib.aadauth_login_free.argtypes = [ctypes.c_void_p]
        lib.aadauth_login_free.restype = None
        lib.aadauth_free.argtypes = [ctypes.c_void_p]
        lib.aadauth_free.restype = None
        lib.aadauth_version.argtypes = []
        lib.aadauth_version.restype = ctypes.c_char_p  # static: not freed
        self.lib = lib

    def _take(self, pointer):
        """The envelope of a result, which is released."""
        try:
            envelope = json.loads(ctypes.string_at(pointer).decode("utf-8"))
        finally:
            self.lib.aadauth_free(pointer)
        if "error" in envelope:
            raise AadauthError(envelope["error"])
        return envelope

    @staticmethod
    def _text(value):
        return value if isinstance(value, bytes) else json.dumps(value).encode("utf-8")

    def version(self):
        return self.lib.aadauth_version().decode()

    def evaluate(self, input_doc):
        return self._take(self.lib.aadauth_evaluate(self._text(input_doc)))["ok"]

    def decode_token(self, jwt, now=None):
        now = -(2**63) if now is None else now  # AADAUTH_NO_TIME
        return self._take(self.lib.aadauth_decode_token(jwt.encode("utf-8"), now))["ok"]

    def login(self, start_doc):
        return Login(self, self.lib.aadauth_login_start(self._text(start_doc)))


class Login:
    """A login in progress (the step API); a context manager that frees the handle."""

    def __init__(self, api, handle):
        self.api, self.handle = api, handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.api.lib.aadauth_login_free(self.handle)
        self.handle = None

    def next(self):
        return self.api._take(self.api.lib.aadauth_login_next(self.handle))

    def provide_keys(self, answer):
        self.api._take(self.api.lib.aadauth_login_provide_keys(self.handle, self.api._text(answer)))

    def provide_arm(self, answer):
        self.api._take(self.api.lib.aadauth_login_provide_arm(self.handle, self.api._text(answer)))


def arm_answer(arm, path):
    """What ARM would answer for `path`, from a case's snapshot."""
    for key, value in (arm or {}).items():
        if key.lower() == path.lower():
            if isinstance(value, dict) and isinstance(value.get("error"), dict):
                return {"path": path, "status": value.get("status", 500), "body": {"error": value["error"]}}
            return {"path": path, "status": 200, "body": value}
    return {"path": path, "status": 404}


def step_login(api, input_doc, explore):
    start = {k: v for k, v in input_doc.items() if k not in ("keys", "arm")}
    start["explore"] = explore
    with api.login(start) as login:
        for _ in range(32):
            step = login.next()
            if "done" in step:
                return step["done"]
            if step["need"] == "keys":
                login.provide_keys({"keys": input_doc.get("keys")})
            else:
                for request in step["requests"]:
                    login.provide_arm(arm_answer(input_doc.get("arm"), request["path"]))
    raise RuntimeError("the login did not finish")


def main(argv):
    lib = os.environ.get("AADAUTH_LIB", os.path.join(ROOT, "target", "release", "libaadauth.so"))
    path = os.path.join(ROOT, "demo", "demo.json")
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--lib":
            lib = args.pop(0)
        else:
            path = a
    api = Aadauth(lib)
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    cases = doc.get("cases") or [{"name": doc.get("name", path), "input": doc["input"]}]
    print(f"aadauth {api.version()} (Python, ctypes)")
    failures = 0
    for case in cases:
        out = api.evaluate(case["input"])
        line = f"{case['name']}: allowed={str(out['allowed']).lower()} status={out['status']}"
        if out["error"]:
            line += f" error={out['error'][:100]!r}"
        print(line)
        jwt = case["input"].get("login", {}).get("jwt")
        if jwt:
            try:
                decoded = api.decode_token(jwt, case["input"].get("now"))
                print(f"    decode: {decoded['azure']['principal_kind']}, {len(decoded['azure']['warnings'])} warning(s)")
            except AadauthError as e:
                print(f"    decode: {e}")
        done = step_login(api, case["input"], explore=False)
        if any(done[k] != out[k] for k in ("allowed", "status", "error", "auth")):
            print(f"FAIL: {case['name']}: the step API decided differently", file=sys.stderr)
            failures += 1
        if step_login(api, case["input"], explore=True) != out:
            print(f"FAIL: {case['name']}: the exploring step API output differs", file=sys.stderr)
            failures += 1
        else:
            print("    step API: same decision; exploring, the same output as evaluate")
    try:
        api.evaluate({"login": {}})
        print("FAIL: an input without now was evaluated", file=sys.stderr)
        failures += 1
    except AadauthError as e:
        assert e.code == "input" and e.field == "now", e
        print(f"input error: {e}")
    if failures:
        print(f"{failures} failure(s)", file=sys.stderr)
        return 1
    print("Python demo: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
