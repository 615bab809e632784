#!/usr/bin/env python3
"""Writes the differential corpus of hostile tokens (tests/differential/cases.json).

Every case starts from the token of tests/vectors/allowed_vm_system_assigned.json: the same
header, the same claims (iss, aud, exp, nbf, oid, xms_mirid, ...), signed with the same
test-fixture key (demo/keys/tenant-key-1.pem, kid demo-key-1), and changes one trait. An
honest verifier's only reason to refuse a case is that trait; the control case is the base
token itself, which every verifier must accept.

Deterministic: the same inputs give the same cases.json byte for byte. RS256/RS384/RS512
(PKCS#1 v1.5) signatures are deterministic; PS256 uses a fixed salt (PSS encoding done
here); the attacker's key is derived from a fixed seed (no randomness from the system).

Usage: python3 tests/differential/gen.py [--out PATH]   (default: tests/differential/cases.json)
Needs only Python 3 and the `cryptography` package; no network.
"""

import argparse
import base64
import copy
import datetime
import hashlib
import hmac
import json
import os
import random
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BASE_VECTOR = "tests/vectors/allowed_vm_system_assigned.json"

# ---------------------------------------------------------------------------------------
# encoding helpers


def b64u(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def js(obj) -> str:
    """Compact JSON, members in insertion order (how the base token is spelled)."""
    return json.dumps(obj, separators=(",", ":"))


def as_bytes(part) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode("utf-8")
    return js(part).encode("utf-8")


# ---------------------------------------------------------------------------------------
# keys


def load_key(rel: str) -> rsa.RSAPrivateKey:
    with open(os.path.join(ROOT, rel), "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def _is_probable_prime(n: int, rng: random.Random) -> bool:
    if n < 2:
        return False
    for p in SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(40):
        a = rng.randrange(2, n - 1)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p**0.5) + 1))]


def deterministic_rsa_key(seed: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key derived from `seed` (the attacker's key: outside the tenant's key set)."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    e = 65537

    def prime(nbits: int) -> int:
        while True:
            c = rng.getrandbits(nbits) | (3 << (nbits - 2)) | 1
            if (c - 1) % e and _is_probable_prime(c, rng):
                return c

    while True:
        p, q = prime(bits // 2), prime(bits // 2)
        if p != q and (p * q).bit_length() == bits:
            break
    if p < q:
        p, q = q, p
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key()


def int_b64u(i: int) -> str:
    return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))


def public_jwk(key: rsa.RSAPrivateKey, kid: str | None = None) -> dict:
    pub = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "e": int_b64u(pub.e), "n": int_b64u(pub.n)}
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def self_signed_cert_der(key: rsa.RSAPrivateKey, cn: str) -> bytes:
    """A self-signed certificate for `key` with fixed fields (deterministic: PKCS#1 v1.5)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5EED)
        .not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc))
        .not_valid_after(datetime.datetime(2035, 1, 1, tzinfo=datetime.timezone.utc))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


# ---------------------------------------------------------------------------------------
# signing


def pss_sign(key: rsa.RSAPrivateKey, message: bytes, salt: bytes) -> bytes:
    """RSASSA-PSS with SHA-256 and MGF1-SHA-256 (RFC 8017 §8.1, §9.1.1), with a fixed salt
    so that the corpus is deterministic (cryptography always draws a random salt)."""
    priv = key.private_numbers()
    n, d = priv.public_numbers.n, priv.d
    mod_bits = n.bit_length()
    em_bits = mod_bits - 1
    em_len = (em_bits + 7) // 8
    m_hash = hashlib.sha256(message).digest()
    h = hashlib.sha256(b"\x00" * 8 + m_hash + salt).digest()
    ps = b"\x00" * (em_len - len(salt) - len(h) - 2)
    db = ps + b"\x01" + salt
    mask = b""
    counter = 0
    while len(mask) < len(db):
        mask += hashlib.sha256(h + counter.to_bytes(4, "big")).digest()
        counter += 1
    masked = bytes(a ^ b for a, b in zip(db, mask[: len(db)]))
    first = masked[0] & (0xFF >> (8 * em_len - em_bits))
    em = bytes([first]) + masked[1:] + h + b"\xbc"
    s = pow(int.from_bytes(em, "big"), d, n)
    k = (mod_bits + 7) // 8
    sig = s.to_bytes(k, "big")
    # Self-check with the library's verifier.
    key.public_key().verify(
        sig,
        message,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=len(salt)),
        hashes.SHA256(),
    )
    return sig


def sign(alg: str, signing_input: bytes, key=None, secret: bytes | None = None) -> bytes:
    if alg == "none":
        return b""
    if alg in ("RS256", "RS384", "RS512"):
        h = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
        return key.sign(signing_input, padding.PKCS1v15(), h)
    if alg == "PS256":
        return pss_sign(key, signing_input, salt=hashlib.sha256(b"aadauth differential PS256 salt").digest())
    if alg in ("HS256", "HS384"):
        d = {"HS256": hashlib.sha256, "HS384": hashlib.sha384}[alg]
        return hmac.new(secret, signing_input, d).digest()
    raise ValueError(alg)


def compact(header, payload, alg="RS256", key=None, secret=None, header_text=None, payload_text=None):
    """header.payload.signature; `header_text`/`payload_text` override the base64url
    spelling of a part (the signature is computed over the text as spelled)."""
    h = header_text if header_text is not None else b64u(as_bytes(header))
    p = payload_text if payload_text is not None else b64u(as_bytes(payload))
    signing_input = f"{h}.{p}".encode("ascii", errors="surrogateescape")
    sig = sign(alg, signing_input, key=key, secret=secret)
    return f"{h}.{p}.{b64u(sig)}"


# ---------------------------------------------------------------------------------------
# the corpus


class Corpus:
    def __init__(self, base_now: int):
        self.base_now = base_now
        self.cases = []
        self.names = set()

    def add(self, name, category, description, token, now=None):
        assert name not in self.names, name
        assert isinstance(token, str), name
        self.names.add(name)
        self.cases.append(
            {
                "name": name,
                "category": category,
                "description": description,
                "now": self.base_now if now is None else now,
                "token": token,
            }
        )


def build(base_input: dict) -> dict:
    base_token = base_input["login"]["jwt"]
    base_now = base_input["now"]
    h_text, p_text, s_text = base_token.split(".")
    header = json.loads(b64u_decode(h_text))
    claims = json.loads(b64u_decode(p_text))
    k1 = load_key("demo/keys/tenant-key-1.pem")
    k2 = load_key("demo/keys/tenant-key-2.pem")
    attacker = deterministic_rsa_key("aadauth differential attacker key 1")
    jwks = base_input["keys"]
    jwk1 = next(k for k in jwks["keys"] if k.get("kid") == "demo-key-1")

    # The generator must reproduce the base token exactly (same JSON, same signature).
    again = compact(header, claims, key=k1)
    if again != base_token:
        sys.exit("gen.py: re-signing the base claims does not reproduce the base token")
    assert public_jwk(k1)["n"] == jwk1["n"], "demo-key-1.pem does not match the JWKS"

    exp, nbf, iat = claims["exp"], claims["nbf"], claims["iat"]
    iss, aud = claims["iss"], claims["aud"]
    assert nbf < base_now < exp

    c = Corpus(base_now)

    def hdr(**changes):
        out = copy.deepcopy(header)
        for k, v in changes.items():
            if v is DELETE:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    def cl(**changes):
        out = copy.deepcopy(claims)
        for k, v in changes.items():
            if v is DELETE:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    def rename_claim(old, new, obj=None):
        """The claims with member `old` renamed to `new`, in place (order kept)."""
        src = claims if obj is None else obj
        return {(new if k == old else k): v for k, v in src.items()}

    def raw(obj, **extra_members):
        """Compact JSON text of obj with members appended verbatim (for duplicates)."""
        text = js(obj)
        tail = "".join(f",{js(k)}:{v}" for k, v in extra_members.items())
        return text[:-1] + tail + "}"

    def signed(payload=None, hdr_obj=None, alg="RS256", key=None, **kw):
        return compact(header if hdr_obj is None else hdr_obj, claims if payload is None else payload,
                       alg=alg, key=k1 if key is None else key, **kw)

    # ---- control ---------------------------------------------------------------------
    c.add("control_valid_token", "control",
          "The base token itself, unchanged: every verifier must accept it.", base_token)

    # ---- algorithm -------------------------------------------------------------------
    none_hdr = {"alg": "none", "typ": "JWT"}
    c.add("alg_none_empty_signature", "algorithm",
          'alg "none", header without kid, empty signature part (h.p.).',
          compact(none_hdr, claims, alg="none"))
    c.add("alg_none_keeps_kid_empty_signature", "algorithm",
          'alg "none" with the base header\'s kid/x5t, empty signature part.',
          compact(hdr(alg="none"), claims, alg="none"))
    none_h = b64u(as_bytes(hdr(alg="none")))
    c.add("alg_none_with_rs256_signature", "algorithm",
          'alg "none" but a genuine RS256 signature (tenant key 1) over this very header and payload.',
          compact(None, claims, key=k1, header_text=none_h))
    c.add("alg_none_capitalised_None", "algorithm", 'alg "None", empty signature.',
          compact(hdr(alg="None"), claims, alg="none"))
    c.add("alg_none_uppercase_NONE", "algorithm", 'alg "NONE", empty signature.',
          compact(hdr(alg="NONE"), claims, alg="none"))
    c.add("alg_missing", "algorithm", "Header without alg; signed RS256 with tenant key 1.",
          signed(hdr_obj=hdr(alg=DELETE)))
    c.add("alg_rs256_lowercase", "algorithm", 'alg "rs256" (lower case); signed RS256 with tenant key 1.',
          signed(hdr_obj=hdr(alg="rs256")))

    pub1 = k1.public_key()
    spki_pem = pub1.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pkcs1_pem = pub1.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    der = pub1.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs = hdr(alg="HS256")
    c.add("hs256_secret_public_key_pem", "algorithm",
          "HS256, HMAC secret = tenant key 1's public key as SubjectPublicKeyInfo PEM (with final newline): key confusion.",
          compact(hs, claims, alg="HS256", secret=spki_pem))
    c.add("hs256_secret_public_key_pem_no_newline", "algorithm",
          "HS256, HMAC secret = the public key PEM without its final newline.",
          compact(hs, claims, alg="HS256", secret=spki_pem.rstrip(b"\n")))
    c.add("hs256_secret_public_key_pkcs1_pem", "algorithm",
          "HS256, HMAC secret = the public key as PKCS#1 PEM (BEGIN RSA PUBLIC KEY).",
          compact(hs, claims, alg="HS256", secret=pkcs1_pem))
    c.add("hs256_secret_public_key_der", "algorithm",
          "HS256, HMAC secret = the public key's DER (SubjectPublicKeyInfo).",
          compact(hs, claims, alg="HS256", secret=der))
    c.add("hs256_secret_jwk_json", "algorithm",
          "HS256, HMAC secret = the JSON text of key 1's JWKS entry.",
          compact(hs, claims, alg="HS256", secret=js(jwk1).encode()))
    c.add("hs256_secret_jwks_json", "algorithm",
          "HS256, HMAC secret = the JSON text of the whole key set.",
          compact(hs, claims, alg="HS256", secret=js(jwks).encode()))
    c.add("hs256_secret_modulus_n", "algorithm",
          "HS256, HMAC secret = the base64url text of key 1's modulus n.",
          compact(hs, claims, alg="HS256", secret=jwk1["n"].encode()))
    c.add("hs384_secret_public_key_pem", "algorithm",
          "HS384, HMAC secret = the public key PEM.",
          compact(hdr(alg="HS384"), claims, alg="HS384", secret=spki_pem))
    c.add("rs384_right_key", "algorithm", "RS384 signed with tenant key 1 (the right key, the wrong algorithm).",
          signed(hdr_obj=hdr(alg="RS384"), alg="RS384"))
    c.add("rs512_right_key", "algorithm", "RS512 signed with tenant key 1.",
          signed(hdr_obj=hdr(alg="RS512"), alg="RS512"))
    c.add("ps256_right_key", "algorithm", "PS256 (RSASSA-PSS, SHA-256, 32-byte salt) signed with tenant key 1.",
          signed(hdr_obj=hdr(alg="PS256"), alg="PS256"))
    c.add("ps256_signature_labelled_rs256", "algorithm",
          "Header says RS256, but the signature is a PS256 signature by tenant key 1.",
          compact(header, claims, alg="PS256", key=k1))

    # ---- key selection ---------------------------------------------------------------
    c.add("kid_of_other_key_in_set", "kid",
          "kid demo-key-2 (in the set) but signed by tenant key 1.",
          signed(hdr_obj=hdr(kid="demo-key-2", x5t="demo-key-2")))
    c.add("kid_second_key_signed_by_second_key", "kid",
          "kid demo-key-2, signed by tenant key 2 (key rotation: must verify).",
          signed(hdr_obj=hdr(kid="demo-key-2", x5t="demo-key-2"), key=k2))
    c.add("kid_absent", "kid", "Header without kid (and x5t); signed by tenant key 1: every key is tried.",
          signed(hdr_obj=hdr(kid=DELETE, x5t=DELETE)))
    c.add("kid_absent_signed_by_second_key", "kid",
          "Header without kid; signed by tenant key 2 (the second key of the set must be tried).",
          signed(hdr_obj=hdr(kid=DELETE, x5t=DELETE), key=k2))
    c.add("kid_not_in_set", "kid", 'kid "attacker-key-1" (not in the set); signed by tenant key 1.',
          signed(hdr_obj=hdr(kid="attacker-key-1")))
    c.add("kid_empty_string", "kid", 'kid "" (empty string); signed by tenant key 1.',
          signed(hdr_obj=hdr(kid="")))
    c.add("kid_null", "kid", "kid null; signed by tenant key 1.", signed(hdr_obj=hdr(kid=None)))
    c.add("kid_number", "kid", "kid 1 (a number, not a string); signed by tenant key 1.",
          signed(hdr_obj=hdr(kid=1)))
    c.add("kid_case_changed", "kid", 'kid "DEMO-KEY-1"; signed by tenant key 1.',
          signed(hdr_obj=hdr(kid="DEMO-KEY-1")))
    c.add("x5t_of_other_key", "kid", "kid demo-key-1 but x5t names demo-key-2; signed by tenant key 1.",
          signed(hdr_obj=hdr(x5t="demo-key-2")))

    # ---- header key injection (the attacker's own key) ---------------------------------
    ajwk = public_jwk(attacker, "attacker-key-1")
    cert_b64 = base64.b64encode(self_signed_cert_der(attacker, "attacker")).decode()
    base_rs = {"alg": "RS256", "typ": "JWT"}
    c.add("jwk_header_attacker_key_no_kid", "injection",
          "Header embeds the attacker's public key as jwk, no kid; signed by the attacker's key.",
          compact({**base_rs, "jwk": public_jwk(attacker)}, claims, key=attacker))
    c.add("jwk_header_attacker_key_kid_of_set", "injection",
          "Header embeds the attacker's jwk and claims kid demo-key-1; signed by the attacker's key.",
          compact({**base_rs, "kid": "demo-key-1", "jwk": public_jwk(attacker)}, claims, key=attacker))
    c.add("jwk_header_attacker_key_own_kid", "injection",
          "Header embeds the attacker's jwk with kid attacker-key-1 and names that kid; signed by the attacker's key.",
          compact({**base_rs, "kid": "attacker-key-1", "jwk": ajwk}, claims, key=attacker))
    c.add("jku_header_attacker_url", "injection",
          "Header jku points at the attacker's key set URL, kid attacker-key-1; signed by the attacker's key.",
          compact({**base_rs, "kid": "attacker-key-1", "jku": "https://attacker.invalid/keys.json"}, claims, key=attacker))
    c.add("jku_header_kid_of_set", "injection",
          "Header jku (attacker URL) with kid demo-key-1; signed by the attacker's key.",
          compact({**base_rs, "kid": "demo-key-1", "jku": "https://attacker.invalid/keys.json"}, claims, key=attacker))
    c.add("x5u_header_attacker_url", "injection",
          "Header x5u points at the attacker's certificate URL; signed by the attacker's key.",
          compact({**base_rs, "kid": "attacker-key-1", "x5u": "https://attacker.invalid/cert.pem"}, claims, key=attacker))
    c.add("x5c_header_attacker_cert", "injection",
          "Header x5c carries a self-signed certificate of the attacker's key, no kid; signed by the attacker's key.",
          compact({**base_rs, "x5c": [cert_b64]}, claims, key=attacker))
    c.add("x5c_header_attacker_cert_kid_of_set", "injection",
          "Header x5c (attacker certificate) with kid demo-key-1; signed by the attacker's key.",
          compact({**base_rs, "kid": "demo-key-1", "x5c": [cert_b64]}, claims, key=attacker))
    c.add("attacker_key_plain", "injection",
          "Base header (kid demo-key-1), signed by the attacker's key: nothing to help it.",
          signed(key=attacker))
    # Header members a verifier must understand or validate, on a token signed by the
    # real key: whoever ignores them verifies what the signer did not mean.
    c.add("crit_unknown_extension", "injection",
          'Header crit ["urn:example:must-understand"] with that member present; signed by tenant key 1 '
          "(RFC 7515 §4.1.11: a recipient that does not understand it must refuse).",
          signed(hdr_obj=hdr(crit=["urn:example:must-understand"], **{"urn:example:must-understand": True})))
    c.add("b64_false_crit", "injection",
          'Header b64:false, crit ["b64"] (RFC 7797 unencoded payload) while the payload part is base64url; '
          "signature over the base64url text, by tenant key 1.",
          signed(hdr_obj=hdr(b64=False, crit=["b64"])))
    c.add("x5c_header_garbage_real_key", "injection",
          'Header x5c ["not-a-certificate"]; signed by tenant key 1 (the certificate is not used for verification).',
          signed(hdr_obj=hdr(x5c=["not-a-certificate"])))
    c.add("jwk_header_invalid_real_key", "injection",
          'Header jwk {"kty":"RSA"} (no n, e); signed by tenant key 1.',
          signed(hdr_obj=hdr(jwk={"kty": "RSA"})))

    # ---- duplicate JSON members --------------------------------------------------------
    expired = base_now - 3600
    c.add("dup_exp_valid_then_expired", "duplicates",
          f'Payload has "exp":{exp} and later "exp":{expired} (expired).',
          signed(payload=raw(claims, exp=expired)))
    c.add("dup_exp_expired_then_valid", "duplicates",
          f'Payload has "exp":{expired} (expired) and later "exp":{exp}.',
          signed(payload=raw(cl(exp=expired), exp=exp)))
    wrong_aud = js("https://attacker.invalid/")
    c.add("dup_aud_right_then_wrong", "duplicates", "Payload has the right aud, then a wrong aud.",
          signed(payload=raw(claims, aud=wrong_aud)))
    c.add("dup_aud_wrong_then_right", "duplicates", "Payload has a wrong aud, then the right aud.",
          signed(payload=raw(cl(aud="https://attacker.invalid/"), aud=js(aud))))
    wrong_iss = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/"
    c.add("dup_iss_right_then_wrong", "duplicates", "Payload has the right iss, then another tenant's iss.",
          signed(payload=raw(claims, iss=js(wrong_iss))))
    c.add("dup_iss_wrong_then_right", "duplicates", "Payload has another tenant's iss, then the right iss.",
          signed(payload=raw(cl(iss=wrong_iss), iss=js(iss))))
    hdr_none_then_rs = raw({"alg": "none"}, **{k: js(v) for k, v in header.items()})
    c.add("dup_alg_none_then_rs256", "duplicates",
          'Header {"alg":"none", ..., "alg":"RS256"}; signed RS256 by tenant key 1.',
          compact(hdr_none_then_rs, claims, key=k1))
    c.add("dup_alg_rs256_then_none", "duplicates",
          'Header {"alg":"RS256", ..., "alg":"none"}; empty signature.',
          compact(raw(header, alg=js("none")), claims, alg="none"))
    c.add("dup_alg_rs256_then_hs256", "duplicates",
          'Header {"alg":"RS256", ..., "alg":"HS256"}; HMAC with the public key PEM as secret.',
          compact(raw(header, alg=js("HS256")), claims, alg="HS256", secret=spki_pem))
    c.add("dup_kid_other_then_right", "duplicates",
          'Header {"kid":"demo-key-2", ..., "kid":"demo-key-1"}; signed by tenant key 1.',
          compact(raw(hdr(kid="demo-key-2"), kid=js("demo-key-1")), claims, key=k1))
    c.add("dup_kid_right_then_other", "duplicates",
          'Header {"kid":"demo-key-1", ..., "kid":"demo-key-2"}; signed by tenant key 1.',
          compact(raw(header, kid=js("demo-key-2")), claims, key=k1))

    # ---- exp / nbf / iat values --------------------------------------------------------
    def claim_case(name, category, description, **changes):
        c.add(name, category, description, signed(payload=cl(**changes)))

    def raw_claim_case(name, category, description, claim, literal):
        """A claim whose JSON literal is written verbatim (numbers JSON can't round-trip)."""
        obj = cl(**{claim: 0})
        text = js(obj).replace(f'"{claim}":0', f'"{claim}":{literal}', 1)
        c.add(name, category, description, signed(payload=text))

    raw_claim_case("exp_huge_integer", "exp", "exp 99999999999999999999 (beyond 64-bit integers).", "exp", "99999999999999999999")
    raw_claim_case("exp_huge_float", "exp", "exp 1e30.", "exp", "1e30")
    claim_case("exp_max_int64", "exp", "exp 9223372036854775807 (the largest 64-bit integer).", exp=9223372036854775807)
    claim_case("exp_year_9999", "exp", "exp 253402300799 (9999-12-31T23:59:59Z): far future.", exp=253402300799)
    claim_case("exp_negative", "exp", "exp -1.", exp=-1)
    claim_case("exp_zero", "exp", "exp 0.", exp=0)
    raw_claim_case("exp_fractional", "exp", f"exp {exp}.5 (fraction of a second, future).", "exp", f"{exp}.5")
    raw_claim_case("exp_exponent_notation", "exp", f"exp written as {exp / 1e9:.9f}e9 (a float literal with an exponent, same instant).", "exp", f"{exp / 1e9:.9f}e9")
    claim_case("exp_numeric_string", "exp", f'exp "{exp}" (a string holding the right number).', exp=str(exp))
    claim_case("exp_non_numeric_string", "exp", 'exp "tomorrow".', exp="tomorrow")
    claim_case("exp_null", "exp", "exp null.", exp=None)
    claim_case("exp_true", "exp", "exp true.", exp=True)
    claim_case("exp_array", "exp", f"exp [{exp}].", exp=[exp])
    claim_case("exp_missing", "exp", "No exp claim.", exp=DELETE)
    claim_case("exp_one_second_ago", "exp", "exp = now - 1 (just expired).", exp=base_now - 1)
    claim_case("exp_equals_now", "exp", "exp = now: RFC 7519 says the token must be refused on or after exp.", exp=base_now)
    c.add("now_one_second_after_exp", "exp", "The base token evaluated at now = exp + 1.", base_token, now=exp + 1)

    raw_claim_case("nbf_huge_integer", "nbf", "nbf 99999999999999999999 (beyond 64-bit integers: far future).", "nbf", "99999999999999999999")
    raw_claim_case("nbf_huge_float", "nbf", "nbf 1e30 (far future).", "nbf", "1e30")
    claim_case("nbf_negative", "nbf", "nbf -1 (long past).", nbf=-1)
    raw_claim_case("nbf_fractional_past", "nbf", f"nbf {nbf}.5 (fraction of a second, past).", "nbf", f"{nbf}.5")
    claim_case("nbf_numeric_string", "nbf", f'nbf "{nbf}" (a string holding the right number).', nbf=str(nbf))
    claim_case("nbf_non_numeric_string", "nbf", 'nbf "yesterday".', nbf="yesterday")
    claim_case("nbf_null", "nbf", "nbf null.", nbf=None)
    claim_case("nbf_true", "nbf", "nbf true.", nbf=True)
    claim_case("nbf_in_two_minutes", "nbf", "nbf = now + 120: inside go-oidc's 5-minute leeway, after now.", nbf=base_now + 120)
    claim_case("nbf_in_ten_minutes", "nbf", "nbf = now + 600: beyond any 5-minute leeway.", nbf=base_now + 600)
    claim_case("nbf_equals_now", "nbf", "nbf = now (valid from this second).", nbf=base_now)
    claim_case("iat_in_future", "iat", "iat = now + 3600 (issued in the future; Vault never checks iat).", iat=base_now + 3600)
    claim_case("iat_non_numeric_string", "iat", 'iat "yesterday".', iat="yesterday")

    # ---- aud -----------------------------------------------------------------------------
    claim_case("aud_number", "aud", "aud 42.", aud=42)
    claim_case("aud_nested_array", "aud", "aud [[<resource>]] (the right value, one level too deep).", aud=[[aud]])
    claim_case("aud_array_containing_right_value", "aud", "aud [\"api://other\", <resource>].", aud=["api://other", aud])
    claim_case("aud_array_with_number", "aud", "aud [<resource>, 1].", aud=[aud, 1])
    claim_case("aud_empty_array", "aud", "aud [].", aud=[])
    claim_case("aud_null", "aud", "aud null.", aud=None)
    claim_case("aud_object", "aud", "aud {\"0\": <resource>}.", aud={"0": aud})
    claim_case("aud_missing", "aud", "No aud claim.", aud=DELETE)
    claim_case("aud_case_changed", "aud", "aud in upper case (HTTPS://MANAGEMENT.AZURE.COM/).", aud=aud.upper())
    claim_case("aud_without_trailing_slash", "aud", "aud https://management.azure.com (no trailing slash).", aud=aud.rstrip("/"))

    # ---- claim names: escapes and case ------------------------------------------------
    def name_replaced(old_literal, new_literal, obj=None):
        text = js(claims if obj is None else obj)
        assert text.count(old_literal) == 1, old_literal
        return text.replace(old_literal, new_literal)

    c.add("claim_name_unicode_escape_exp", "claim-names", 'exp spelled "\\u0065xp" (a JSON escape: the same name).',
          signed(payload=name_replaced('"exp":', '"\\u0065xp":')))
    c.add("claim_name_unicode_escape_aud", "claim-names", 'aud spelled "\\u0061ud".',
          signed(payload=name_replaced('"aud":', '"\\u0061ud":')))
    c.add("claim_value_escaped_slashes_iss", "claim-names", "iss written with escaped slashes (https:\\/\\/sts...): the same string.",
          signed(payload=name_replaced('"iss":' + js(iss), '"iss":' + js(iss).replace("/", "\\/"))))
    c.add("escaped_exp_shadows_expired_exp", "claim-names",
          'Payload "exp":<expired> then "\\u0065xp":<valid>: decoders see one name twice, the last wins.',
          signed(payload=js(cl(exp=expired))[:-1] + f',"\\u0065xp":{exp}}}'))
    c.add("claim_name_uppercase_EXP", "claim-names", 'exp renamed "EXP" (same value; no lower-case exp).',
          signed(payload=rename_claim("exp", "EXP")))
    c.add("claim_name_capitalised_Aud", "claim-names", 'aud renamed "Aud" (same value; no lower-case aud).',
          signed(payload=rename_claim("aud", "Aud")))
    c.add("claim_name_uppercase_ISS", "claim-names", 'iss renamed "ISS" (same value; no lower-case iss).',
          signed(payload=rename_claim("iss", "ISS")))
    c.add("claim_name_long_s_iss", "claim-names", 'iss renamed "i\\u017fs" (LATIN SMALL LETTER LONG S, which Go folds to s).',
          signed(payload=json.dumps(rename_claim("iss", "i\u017fs"), separators=(",", ":"), ensure_ascii=False).encode("utf-8")))
    c.add("claim_name_EXP_expired_after_exp", "claim-names",
          'Payload "exp":<valid> then "EXP":<expired>.',
          signed(payload=raw(claims, EXP=expired)))
    c.add("claim_name_Exp_valid_after_expired_exp", "claim-names",
          'Payload "exp":<expired> then "Exp":<valid>.',
          signed(payload=raw(cl(exp=expired), Exp=exp)))

    # ---- base64 spelling -----------------------------------------------------------------
    sig_bytes = b64u_decode(s_text)
    std_sig = base64.b64encode(sig_bytes).decode().rstrip("=")
    assert std_sig != s_text, "the base signature has no - or _ to respell"
    c.add("b64_standard_alphabet_signature", "base64",
          "Signature part in the standard alphabet (+ and /) instead of base64url; same bytes.",
          f"{h_text}.{p_text}.{std_sig}")
    c.add("b64_padded_signature", "base64", "Signature part with = padding; same bytes.",
          f"{h_text}.{p_text}.{s_text}{'=' * (-len(s_text) % 4)}")
    c.add("b64_padded_header_original_signature", "base64",
          "Header part with = padding, original signature (computed over the unpadded text).",
          f"{h_text}{'=' * (-len(h_text) % 4)}.{p_text}.{s_text}")
    c.add("b64_padded_header_resigned", "base64",
          "Header part with = padding; signature by tenant key 1 over the padded text.",
          compact(None, claims, key=k1, header_text=h_text + "=" * (-len(h_text) % 4)))
    c.add("b64_padded_payload_resigned", "base64",
          "Payload part with = padding; signature by tenant key 1 over the padded text.",
          compact(header, None, key=k1, payload_text=p_text + "=" * (-len(p_text) % 4)))

    def respell_last(text):
        """The same bytes with non-zero unused trailing bits (non-canonical base64url)."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        unused = {2: 4, 3: 2}[len(text) % 4]
        v = alphabet.index(text[-1])
        assert v & ((1 << unused) - 1) == 0
        out = text[:-1] + alphabet[v | 1]
        assert b64u_decode(out) == b64u_decode(text)
        return out

    c.add("b64_noncanonical_signature", "base64",
          "Signature part re-spelled with non-zero unused trailing bits: the same signature bytes.",
          f"{h_text}.{p_text}.{respell_last(s_text)}")
    c.add("b64_noncanonical_payload_original_signature", "base64",
          "Payload part re-spelled with non-zero trailing bits (same bytes), original signature.",
          f"{h_text}.{respell_last(p_text)}.{s_text}")
    c.add("b64_noncanonical_payload_resigned", "base64",
          "Payload part re-spelled with non-zero trailing bits (same bytes); signature over the re-spelled text.",
          compact(header, None, key=k1, payload_text=respell_last(p_text)))

    # ---- whitespace and trailing data --------------------------------------------------
    mid = len(p_text) // 2
    c.add("trailing_extra_part", "trailing", "The token followed by \".extra\" (four parts).", base_token + ".extra")
    c.add("trailing_dot", "trailing", "The token followed by \".\" (four parts, the last empty).", base_token + ".")
    c.add("trailing_space", "trailing", "The token followed by a space.", base_token + " ")
    c.add("trailing_newline", "trailing", "The token followed by \\n.", base_token + "\n")
    c.add("trailing_crlf", "trailing", "The token followed by \\r\\n.", base_token + "\r\n")
    c.add("leading_space", "trailing", "A space before the token.", " " + base_token)
    c.add("leading_newline", "trailing", "\\n before the token.", "\n" + base_token)
    c.add("newline_inside_payload_original_signature", "trailing",
          "\\n inserted in the middle of the payload part; original signature.",
          f"{h_text}.{p_text[:mid]}\n{p_text[mid:]}.{s_text}")
    c.add("newline_inside_payload_resigned", "trailing",
          "\\n inserted in the middle of the payload part; signature by tenant key 1 over the text with the \\n.",
          compact(header, None, key=k1, payload_text=f"{p_text[:mid]}\n{p_text[mid:]}"))
    c.add("space_inside_payload_original_signature", "trailing",
          "A space inserted in the middle of the payload part; original signature.",
          f"{h_text}.{p_text[:mid]} {p_text[mid:]}.{s_text}")
    c.add("newline_inside_signature", "trailing", "\\n inserted in the middle of the signature part.",
          f"{h_text}.{p_text}.{s_text[:100]}\n{s_text[100:]}")

    # ---- structure ----------------------------------------------------------------------
    c.add("two_parts", "structure", "header.payload (no signature part).", f"{h_text}.{p_text}")
    c.add("one_part", "structure", "The payload part alone.", p_text)
    c.add("four_parts_signature_twice", "structure", "header.payload.signature.signature.", f"{base_token}.{s_text}")
    c.add("empty_token", "structure", "The empty string.", "")
    c.add("only_dots", "structure", "\"..\" (three empty parts).", "..")
    c.add("empty_header_part", "structure", "Empty header part; signature by tenant key 1 over \".payload\".",
          compact(None, claims, key=k1, header_text=""))
    c.add("empty_payload_part", "structure", "Empty payload part; signature by tenant key 1 over \"header.\".",
          compact(header, None, key=k1, payload_text=""))
    c.add("empty_signature_part_rs256", "structure", "header.payload. with alg RS256.", f"{h_text}.{p_text}.")

    # ---- signature bytes ------------------------------------------------------------------
    def with_sig(b: bytes) -> str:
        return f"{h_text}.{p_text}.{b64u(b)}"

    flipped = bytearray(sig_bytes)
    flipped[100] ^= 0x01
    c.add("signature_bit_flipped", "signature", "One bit of the signature flipped (byte 100, low bit).", with_sig(bytes(flipped)))
    c.add("signature_truncated_text", "signature", "The signature part's last 10 characters removed.", base_token[:-10])
    c.add("signature_one_byte_short", "signature", "The signature's last byte removed (255 bytes).", with_sig(sig_bytes[:-1]))
    c.add("signature_zero_prefixed", "signature", "A 0x00 byte prepended to the signature (257 bytes, same integer).",
          with_sig(b"\x00" + sig_bytes))
    c.add("signature_doubled", "signature", "The signature bytes twice (512 bytes).", with_sig(sig_bytes + sig_bytes))
    c.add("signature_all_zero", "signature", "256 zero bytes.", with_sig(b"\x00" * len(sig_bytes)))
    c.add("payload_tampered_original_signature", "signature",
          "exp moved a day later in the payload; the original signature kept.",
          f"{h_text}.{b64u(as_bytes(cl(exp=exp + 86400)))}.{s_text}")

    # ---- payload content and size --------------------------------------------------------
    c.add("payload_not_json", "payload", "Payload \"hello, world\" (not JSON); signed by tenant key 1.",
          signed(payload=b"hello, world"))
    c.add("payload_json_array", "payload", "Payload is a JSON array holding the claims object.",
          signed(payload=js([claims])))
    c.add("payload_json_null", "payload", "Payload is JSON null.", signed(payload="null"))
    c.add("payload_json_string", "payload", "Payload is a JSON string.", signed(payload=js(js(claims))))
    c.add("payload_bom_prefixed", "payload", "Payload JSON preceded by a UTF-8 byte order mark.",
          signed(payload=b"\xef\xbb\xbf" + as_bytes(claims)))
    c.add("header_bom_prefixed", "payload", "Header JSON preceded by a UTF-8 byte order mark.",
          signed(hdr_obj=b"\xef\xbb\xbf" + as_bytes(header)))
    c.add("payload_trailing_garbage", "payload", "Payload JSON followed by \"x\".",
          signed(payload=as_bytes(claims) + b"x"))
    c.add("payload_trailing_whitespace", "payload", "Payload JSON followed by \" \\n\" (insignificant whitespace).",
          signed(payload=as_bytes(claims) + b" \n"))
    c.add("payload_invalid_utf8", "payload", "A claim value (uti) holding the byte 0xFF (invalid UTF-8).",
          signed(payload=as_bytes(claims).replace(b'"uti":"', b'"uti":"\xff', 1)))
    c.add("claim_value_lone_surrogate", "payload", 'A claim value (uti) holding the escape "\\ud800" (a lone surrogate).',
          signed(payload=js(claims).replace('"uti":"', '"uti":"\\ud800', 1)))
    deep = "[" * 200 + "]" * 200
    c.add("payload_nested_200_deep", "payload", "An extra claim nested 200 arrays deep.",
          signed(payload=raw(claims, xms_deep=deep)))
    under = signed(payload=cl(xms_pad="A" * 46000))
    assert len(under) < 64 * 1024
    c.add("payload_large_under_64kib", "size", f"An extra 46,000-character claim: the token is {len(under)} bytes (under 64 KiB).", under)
    big = signed(payload=cl(xms_pad="A" * 100_000))
    c.add("payload_oversized_100kb", "size", f"An extra 100,000-character claim: the token is {len(big)} bytes.", big)

    return {
        "generator": "tests/differential/gen.py",
        "base_vector": BASE_VECTOR,
        "base_now": base_now,
        "count": len(c.cases),
        "cases": c.cases,
    }


class _Delete:
    def __repr__(self):
        return "DELETE"


DELETE = _Delete()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/differential/cases.json"))
    args = ap.parse_args()
    with open(os.path.join(ROOT, BASE_VECTOR), encoding="utf-8") as f:
        base = json.load(f)["input"]
    corpus = build(base)
    text = json.dumps(corpus, indent=1, ensure_ascii=True) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {corpus['count']} cases to {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()
