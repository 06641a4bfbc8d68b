#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/seeds/<target>/.

Seeds come from the test suite: the header/payload shapes of the security catalogue rows
(crates/clerk-m2m-core/tests/catalogue.rs), the JWKS shapes of the K rows, and real Backend
API bodies captured from the emulator binary (target/debug/clerk-bapi-emulator; build it with
`cargo build -p clerk-bapi-emulator`). Keys come from `openssl`. Re-run after changing the
tests; scripts/fuzz.sh copies the seeds into fuzz/corpus/<target>/ before each run.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(ROOT)
SEEDS = os.path.join(ROOT, "seeds")
NOW = 1_700_000_000


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


H0 = {"alg": "RS256", "typ": "JWT", "kid": "ins_catalogue_A", "cat": "cl_B7d4PD333AAA"}
P0 = {"sub": "mch_x", "jti": "mt_x", "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 3600}


def w(base, **kw):
    out = dict(base)
    for k, v in kw.items():
        if v is DEL:
            out.pop(k, None)
        else:
            out[k] = v
    return out


DEL = object()
J = lambda v: json.dumps(v, separators=(",", ":"))

# (header bytes, payload bytes) pairs after the catalogue's J rows.
PAIRS = [
    (J(H0), J(P0)),
    (J(w(H0, alg="none")), J(P0)),
    (J(w(H0, alg="NONE")), J(P0)),
    (J(w(H0, alg="HS256")), J(P0)),
    (J(w(H0, alg="RS384")), J(P0)),
    (J(w(H0, alg="RS512")), J(P0)),
    (J(w(H0, alg=None)), J(P0)),
    (J(w(H0, alg=["RS256"])), J(P0)),
    (J(w(H0, kid=DEL)), J(P0)),
    (J(w(H0, kid="../../etc/passwd")), J(P0)),
    (J(w(H0, kid="__proto__")), J(P0)),
    (J(w(H0, kid=["ins_catalogue_A"])), J(P0)),
    (J(w(H0, kid=123)), J(P0)),
    (J(w(H0, jku="http://127.0.0.1:1/jwks", x5u="http://127.0.0.1:1/x")), J(P0)),
    (J(w(H0, crit=["x-foo"], **{"x-foo": 1})), J(P0)),
    (J(w(H0, b64=False, crit=["b64"])), J(P0)),
    (J(H0), '{"sub":"user_1","sub":"mch_1","exp":%d}' % (NOW + 60)),
    (J(H0), '{"sub":"mch_1","exp":%d,"exp":1}' % (NOW + 60)),
    ('{"alg":"none","alg":"RS256","cat":"cl_B7d4PD333AAA","cat":"cl_B7d4PD222AAA"}', J(P0)),
    (J(H0), "null"),
    (J(H0), "[1]"),
    (J(H0), '"mch_1"'),
    ("null", J(P0)),
    ("[]", J(P0)),
    (J(H0), "{"),
    (J(H0), '{"sub":"mch_1"} x'),
    (J(H0), b'{"sub":"mch_1","exp":%d,"note":"\xff\xfe"}' % (NOW + 60)),
    (b"\xef\xbb\xbf" + J(H0).encode(), b"\xef\xbb\xbf" + J(P0).encode()),
    (J(H0), '{"sub":"mch_\\ud800","exp":%d}' % (NOW + 60)),
    (J(H0), '{"sub":"mch_1","exp":%d,"x":%s}' % (NOW + 60, "[" * 200 + "]" * 200)),
    (J(H0), '{"sub":"mch_x","exp":%d,"__proto__":{"role":"admin"}}' % (NOW + 60)),
    (J(H0), J(w(P0, scopes=5))),
    (J(H0), J(w(P0, scopes="mch_1 mch_2", aud=["mch_1", "mch_2"]))),
    (J(H0), J(w(P0, aud="mch_x"))),
    (J(H0), J(w(P0, exp=DEL))),
    (J(H0), J(w(P0, exp="1795763638"))),
    (J(H0), J(w(P0, exp=NOW + 3600.5))),
    (J(H0), J(w(P0, exp=NOW - 5))),
    (J(H0), J(w(P0, exp=-1e13))),
    (J(H0), '{"sub":"mch_1","exp":1e400}'),
    (J(H0), '{"sub":"mch_1","exp":99999999999999999999999}'),
    (J(H0), J(w(P0, nbf=NOW + 60))),
    (J(H0), J(w(P0, nbf=1e13))),
    (J(H0), J(w(P0, iat=DEL))),
    (J(H0), J(w(P0, iat="x"))),
    (J(H0), J(w(P0, sub=123))),
    (J(w(H0, typ="at+jwt")), J(w(P0, sub="user_1", client_id="client_1", scope="read write", aud=["mch_aud"]))),
    (J(w(H0, typ="application/at+jwt")), J(w(P0, sub="user_1", act={"sub": "a", "act": {"sub": "b"}}))),
    (J(H0), J(w(P0, sub="\uff4dch_1"))),
    (J(H0), '{"sub":"\\u006dch_1","exp":%d}' % (NOW + 60)),
    (J(w(H0, cat=DEL)), J(P0)),
    (J(w(H0, cat="cl_B7d4PD111AAA")), J(P0)),
    (J(w(H0, cat="cl_I7d4PD111III")), J(P0)),
    (J(w(H0, cat=None)), J(P0)),
    (J(w(H0, typ="jwt")), J(P0)),
    (J(w(H0, typ=1)), J(P0)),
]

TOKENS = [
    "mt_" + "a" * 48,
    "mt_",
    "oat_abc",
    "ak_abc",
    "MT_x",
    " mt_x",
    "",
    ".",
    "a.b.c.d",
    "a." * 50 + "a",
    "Bearer mt_x",
    "mt_\u00e9\u00e9\U0001f600CANARY",
]


def token(h, p, sig=b"\x01" * 256):
    return "%s.%s.%s" % (b64u(h), b64u(p), b64u(sig))


def jwt_seeds():
    for h, p in PAIRS:
        t = token(h, p)
        write("decode_detect", t)
        write("decode_detect", p)
        write("verify_jwt", b"\x00" + t.encode())
        hb = h.encode() if isinstance(h, str) else h
        pb = p.encode() if isinstance(p, str) else p
        for selector in (0x01, 0x03, 0x05, 0x09, 0x11):
            write("verify_jwt", bytes([selector]) + hb + b"\xff" + pb)
    for t in TOKENS:
        write("decode_detect", t)
        write("verify_jwt", b"\x00" + t.encode())
    t = token(J(H0), J(P0))
    write("decode_detect", t + "=")
    write("decode_detect", " " + t)
    write("decode_detect", t[:-1])


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout


def key_seeds():
    priv = openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    spki_pem = openssl("pkey", "-pubout", stdin=priv)
    spki_der = openssl("pkey", "-pubin", "-outform", "DER", stdin=spki_pem)
    pkcs1_pem = openssl("rsa", "-pubin", "-RSAPublicKey_out", stdin=spki_pem)
    pkcs1_der = openssl("rsa", "-pubin", "-RSAPublicKey_out", "-outform", "DER", stdin=spki_pem)
    ec = openssl("pkey", "-pubout", stdin=openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"))
    small = openssl("pkey", "-pubout", stdin=openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"))
    e3 = openssl("pkey", "-pubout", stdin=openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt", "rsa_keygen_pubexp:3"))
    for s in (spki_pem, spki_der, pkcs1_pem, pkcs1_der, ec, small, e3, priv, spki_pem.replace(b"\n", b"\\n"), spki_pem.replace(b"\n", b"\r\n"),
              b"".join(l for l in spki_pem.splitlines() if not l.startswith(b"-----")), b"not a pem",
              b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(spki_der) + b"\n-----END CERTIFICATE-----\n"):
        write("key_material", s)
    return spki_der


def jwk_of(der):
    """n and e of an SPKI DER via openssl's text output."""
    text = openssl("rsa", "-pubin", "-inform", "DER", "-noout", "-modulus", stdin=der).decode()
    n = bytes.fromhex(text.strip().split("=", 1)[1])
    return {"use": "sig", "kty": "RSA", "kid": "ins_catalogue_A", "alg": "RS256", "n": b64u(n), "e": "AQAB"}


def jwks_seeds(der):
    a = jwk_of(der)
    docs = [
        {"keys": [a]},
        {"keys": [dict(a, kid="ins_B"), a]},
        {"keys": [dict(a, kid="__proto__"), a]},
        {"keys": [dict(a, alg=None)]},
        {"keys": [dict(a, kty="EC")]},
        {"keys": [dict(a, kty="oct", k="c2VjcmV0")]},
        {"keys": [dict(a, use="enc")]},
        {"keys": [dict(a, key_ops=["sign"])]},
        {"keys": [dict(a, key_ops=["verify", "verify"])]},
        {"keys": [dict(a, alg="RS384")]},
        {"keys": [dict(a, d="AQAB")]},
        {"keys": [dict(a, oth=[1])]},
        {"keys": [{"kid": "k%d" % i, "kty": "RSA"} for i in range(101)]},
        {"keys": [None]},
        {"keys": []},
        {"keys": "x"},
        {"keys": None},
        {"keys": {"length": 1}},
        {},
        None,
        [1, "a", True],
    ]
    for d in docs:
        write("jwks_parse", J(d))
    return docs[0]


def emulator_bodies():
    """Real bodies from the emulator binary: JWKS, token create/verify/list/revoke, errors."""
    exe = os.path.join(REPO, "target", "debug", "clerk-bapi-emulator")
    if not os.path.exists(exe):
        print("emulator binary missing; skipping captured bodies", file=sys.stderr)
        return []
    proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        info = json.loads(proc.stdout.readline())
        url, sk = info["url"], info["instances"][0]["secretKey"]
        machines = {m["name"]: m for m in info["machines"]}
        bodies = []

        def call(method, path, key, body=None):
            req = urllib.request.Request(url + path, method=method, data=None if body is None else J(body).encode(),
                                         headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    data = r.read()
                    bodies.append((r.status, data))
                    return json.loads(data)
            except urllib.error.HTTPError as e:
                bodies.append((e.code, e.read()))
                return None

        call("GET", "/v1/jwks", sk)
        call("GET", "/v1/jwks", "sk_test_wrong")
        tok = call("POST", "/m2m_tokens", machines["webhook"]["secretKey"], {"seconds_until_expiration": 3600, "claims": {"team": "a"}})
        jwt = call("POST", "/m2m_tokens", machines["webhook"]["secretKey"], {"token_format": "jwt", "claims": None})
        call("POST", "/m2m_tokens/verify", machines["trpc"]["secretKey"], {"token": tok["token"]})
        call("POST", "/m2m_tokens/verify", machines["trpc"]["secretKey"], {"token": "mt_unknown"})
        call("POST", "/m2m_tokens/verify", "ak_wrong", {"token": tok["token"]})
        call("GET", "/m2m_tokens?subject=" + machines["webhook"]["id"], machines["webhook"]["secretKey"])
        call("POST", "/m2m_tokens/%s/revoke" % tok["id"], sk, {"revocation_reason": "fuzz"})
        call("POST", "/m2m_tokens/verify", machines["trpc"]["secretKey"], {"token": tok["token"]})
        call("POST", "/m2m_tokens", machines["webhook"]["secretKey"], {"seconds_until_expiration": -5})
        if jwt:
            h, p, _ = jwt["token"].split(".")
            pad = lambda s: s + "=" * (-len(s) % 4)
            hb, pb = base64.urlsafe_b64decode(pad(h)), base64.urlsafe_b64decode(pad(p))
            write("verify_jwt", b"\x01" + hb + b"\xff" + pb)
            write("decode_detect", jwt["token"])
        return bodies
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


STATUS_INDEX = {200: 0, 201: 1, 204: 2, 301: 3, 400: 4, 401: 5, 403: 6, 404: 7, 409: 8, 422: 9, 429: 10, 500: 11, 502: 12, 503: 13, 504: 14, 599: 15}


def bapi_seeds(bodies, jwks_doc):
    bodies = bodies + [(200, J(jwks_doc).encode()), (502, b"<html>bad gateway</html>"), (200, b"{not json"), (200, b"[1,2]"),
                       (200, b"null"), (401, b'{"errors":null}'), (401, b'{"errors":"x"}'), (401, b'{"errors":[null]}'),
                       (429, b'{"errors":[{"code":"too_many_requests","message":"slow down"}]}')]
    for status, body in bodies:
        si = STATUS_INDEX.get(status, 0)
        for call in range(7):
            write("bapi_response", bytes([si, 0, call, 0]) + body)
        write("bapi_response", bytes([si, 3, 0, 1 + 5 * 7]) + body)
        write("bapi_response", bytes([si, 1, 6, 3]) + body)


def main():
    jwt_seeds()
    der = key_seeds()
    doc = jwks_seeds(der)
    bapi_seeds(emulator_bodies(), doc)
    for t in sorted(os.listdir(SEEDS)):
        print("%-14s %4d seeds" % (t, len(os.listdir(os.path.join(SEEDS, t)))))


if __name__ == "__main__":
    main()
