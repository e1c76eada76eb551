"""Country approvals end to end: the real server and CLI on both databases.

Two countries with different thresholds (KE: 2 of 3 approvers; EE: 1), approvers with
their own keys registered by themselves, `govstore approve` / `revoke` signing on the
approver's side, and `govstore resolve` / `install` under `approved_only` verifying the
envelopes against the keys the stack pins. Approval envelopes are checked here by an
implementation that is not govstore's (Python `cryptography` over the DSSE PAE bytes),
and statements made here in Python (same format, independent code) are accepted by the
server and the CLI; tampered, misdirected and unauthorised statements store nothing.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from e2e_helpers import CATALOG, spki_key_id

PREDICATE = "https://govstore.dev/approval/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
# What the greenfield example stack resolves to in the demo catalogue.
GREENFIELD = {
    "mosip/esignet": "1.8.0",
    "openspp/openspp": "1.2.1",
    "rapidpro/rapidpro": "9.0.0",
    "x-road/security-server": "7.8.0",
}


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding, written from the DSSE specification."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def verify_envelope(envelope: dict, public_pem: str) -> dict:
    """Checks an envelope's one signature with `cryptography`; returns the statement."""
    key = serialization.load_pem_public_key(public_pem.encode())
    payload = base64.b64decode(envelope["payload"])
    [sig] = envelope["signatures"]
    key.verify(base64.b64decode(sig["sig"]), pae(envelope["payloadType"], payload), ec.ECDSA(hashes.SHA256()))
    return json.loads(payload)


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PyApprover:
    """An approver whose key and statements are made here, not by govstore."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public_pem = (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        self.key_id = spki_key_id(self.public_pem)

    def envelope(self, statement: dict) -> dict:
        payload = json.dumps(statement).encode()
        sig = self.key.sign(pae(PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
        return {
            "payloadType": PAYLOAD_TYPE,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": self.key_id, "sig": base64.b64encode(sig).decode()}],
        }


def statement(name: str, version: str, digest: str, country: str, *, decision="approved", until=None, reason=None):
    now = datetime.now(timezone.utc)
    pred = {"country": country, "decision": decision, "signedAt": rfc3339(now)}
    if until is not None:
        pred["validUntil"] = rfc3339(until)
    if reason is not None:
        pred["reason"] = reason
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": f"{name}@{version}", "digest": {"sha256": digest.removeprefix("sha256:")}}],
        "predicateType": PREDICATE,
        "predicate": pred,
    }


class Country:
    """A country set up through `govstore-server admin`, with approvers who generated
    and registered their own keys with the CLI."""

    def __init__(self, reg, govstore, tmp: Path, code: str, threshold: int, approvers: int):
        self.reg, self.code, self.ns = reg, code, code.lower()
        self.owner = f"{self.ns}-owner"
        reg.admin("create-user", self.owner)
        reg.admin("create-country", code, "--owner", self.owner, "--threshold", str(threshold))
        self.approvers = []
        for i in range(approvers):
            user = f"{self.ns}-approver{i}"
            reg.admin("create-user", user)
            reg.admin("add-country-member", code, user, "--role", "approver")
            token = reg.create_token(user, f"approve:{code}", f"keys:{self.ns}", f"review:{code}")
            cli = govstore.as_user(tmp / f"{user}-config")
            key, pub = tmp / f"{user}.key", tmp / f"{user}.pub"
            cli.run("keygen", "--key-out", key, "--pub-out", pub)
            reg_key = cli.json("key", "register", "--namespace", self.ns, "--key", pub, token=token, registry=reg.url)
            self.approvers.append(
                {"user": user, "token": token, "cli": cli, "key": key, "pub": pub.read_text(), "key_id": reg_key["key_id"]}
            )

    def approve(self, i: int, package: str, *extra: str):
        a = self.approvers[i]
        return a["cli"].json(
            "approve", package, "--country", self.code, "--key", a["key"], *extra, token=a["token"], registry=self.reg.url
        )

    def revoke(self, i: int, package: str, reason: str):
        a = self.approvers[i]
        return a["cli"].json(
            "revoke", package, "--country", self.code, "--key", a["key"], "--reason", reason,
            token=a["token"], registry=self.reg.url,
        )

    def trust_block(self, keys: list[str], threshold: int) -> str:
        quoted = ", ".join(f'"{k}"' for k in keys)
        return f'\n[trust]\ncountry = "{self.code}"\nkeys = [{quoted}]\nthreshold = {threshold}\n'


def stack_file(tmp: Path, name: str, country: Country, keys: list[str], threshold: int) -> Path:
    text = (CATALOG / "stack-greenfield-vms.toml").read_text()
    text = text.replace('country = "SL"', f'country = "{country.code}"')
    text = text.replace("allow_prereleases = false", "allow_prereleases = false\napproved_only = true")
    path = tmp / name
    path.write_text(text + country.trust_block(keys, threshold))
    return path


def digest_of(reg, name: str, version: str) -> str:
    ns, short = name.split("/")
    r = requests.get(reg.api(f"packages/{ns}/{short}/versions/{version}"), timeout=30)
    r.raise_for_status()
    return r.json()["digest"]


def recorded(reg, code: str) -> int:
    r = requests.get(reg.api(f"countries/{code}/approvals"), params={"limit": 500}, timeout=30)
    r.raise_for_status()
    return len(r.json()["statements"])


def last_event(reg) -> int:
    r = requests.get(reg.api("events"), params={"after": 0, "limit": 1}, timeout=30)
    r.raise_for_status()
    return r.json()["last"]


def test_thresholds_revocation_expiry_and_install(demo_registry, govstore, tmp_path):
    reg = demo_registry
    ke = Country(reg, govstore, tmp_path, "KE", threshold=2, approvers=3)
    ee = Country(reg, govstore, tmp_path, "EE", threshold=1, approvers=1)
    ke_keys = [a["key_id"] for a in ke.approvers]
    ke_stack = stack_file(tmp_path, "ke-stack.toml", ke, ke_keys, 2)
    ee_stack = stack_file(tmp_path, "ee-stack.toml", ee, [ee.approvers[0]["key_id"]], 1)
    operator = govstore.as_user(tmp_path / "operator")

    def resolve(stack: Path, lock: Path, check=True):
        return operator.run("resolve", "--stack", stack, "--lock", lock, registry=reg.url, check=check)

    # Nothing approved yet: every candidate is excluded, and the report says so.
    res = resolve(ke_stack, tmp_path / "ke.lock", check=False)
    assert res.returncode == 1, res.describe()
    assert "not approved for KE" in res.stderr, res.describe()

    # One approval each is not enough for KE's 2 of 3.
    for name, version in GREENFIELD.items():
        out = ke.approve(0, f"{name}@{version}", "--reason", "reviewed by the ministry")
        assert out["recorded"] is True and out["state"]["approved"] is False, out
    res = resolve(ke_stack, tmp_path / "ke.lock", check=False)
    assert res.returncode == 1, res.describe()
    assert "1 of 2 approvals needed in KE" in res.stderr, res.describe()

    # A second approver: the threshold is met, the stack resolves, the lockfile pins trust.
    for name, version in GREENFIELD.items():
        out = ke.approve(1, f"{name}@{version}")
        assert out["state"]["approved"] is True and out["state"]["approvals"] == 2, out
    resolve(ke_stack, tmp_path / "ke.lock")
    lock_text = (tmp_path / "ke.lock").read_text()
    for name, version in GREENFIELD.items():
        assert f'name = "{name}"' in lock_text and f'version = "{version}"' in lock_text, lock_text
    assert "[trust]" in lock_text and ke_keys[0] in lock_text, lock_text

    # KE's approvals count for nothing in EE; EE's own single approval is its threshold.
    res = resolve(ee_stack, tmp_path / "ee.lock", check=False)
    assert res.returncode == 1 and "not approved for EE" in res.stderr, res.describe()
    for name, version in GREENFIELD.items():
        ee.approve(0, f"{name}@{version}", "--until", "2099-12-31")
    resolve(ee_stack, tmp_path / "ee.lock")

    # The envelopes the index serves verify with an implementation that is not ours.
    r = requests.get(reg.api("index/packages/mosip/esignet"), timeout=30)
    r.raise_for_status()
    entry = next(v for v in r.json()["versions"] if v["version"] == "1.8.0")
    by_key = {a["key_id"]: a["pub"] for a in ke.approvers + ee.approvers}
    checked = 0
    for a in entry["approvals"]:
        if a["country"] not in ("KE", "EE"):
            continue  # the demo's own country
        env = a["envelope"]
        s = verify_envelope(env, by_key[env["signatures"][0]["keyid"]])
        assert s["_type"] == "https://in-toto.io/Statement/v1" and s["predicateType"] == PREDICATE
        assert s["subject"] == [{"name": "mosip/esignet@1.8.0", "digest": {"sha256": entry["digest"].removeprefix("sha256:")}}]
        assert s["predicate"]["country"] == a["country"]
        checked += 1
    assert checked == 3, entry["approvals"]
    # ... and cosign-family tools find them: the `.att` tag and the referrers API.
    att_tag = entry["digest"].replace("sha256:", "sha256-") + ".att"
    att = requests.get(reg.v2(f"mosip/esignet/manifests/{att_tag}"), headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=30)
    assert att.status_code == 200, att.text
    total = len(entry["approvals"])  # KE's and EE's, and the demo country's
    assert len(att.json()["layers"]) == total and all(l["mediaType"] == "application/vnd.dsse.envelope.v1+json" for l in att.json()["layers"])
    referrers = requests.get(reg.v2(f"mosip/esignet/referrers/{entry['digest']}"), timeout=30).json()["manifests"]
    assert sum(m.get("artifactType") == "application/vnd.dsse.envelope.v1+json" for m in referrers) == total, referrers

    # Install honours the lockfile's trust.
    operator.run("install", "--lock", tmp_path / "ke.lock", "--into", tmp_path / "site", registry=reg.url)

    # A revocation by one approver stops resolve and install, naming the reason.
    out = ke.revoke(2, "mosip/esignet@1.8.0", "CVE-2026-0001: token forgery")
    assert out["state"]["approved"] is False, out
    res = operator.run("install", "--lock", tmp_path / "ke.lock", "--into", tmp_path / "site2", registry=reg.url, check=False)
    assert res.returncode == 1, res.describe()
    assert "mosip/esignet@1.8.0" in res.stderr and "CVE-2026-0001: token forgery" in res.stderr, res.describe()
    assert not (tmp_path / "site2").exists(), "a refused install wrote its directory"
    res = resolve(ke_stack, tmp_path / "ke-after.lock", check=False)
    assert res.returncode == 1 and "CVE-2026-0001" in res.stderr, res.describe()

    # `govstore approvals` lists who, when, until, and whether the threshold is met.
    listing = operator.run("approvals", "mosip/esignet", registry=reg.url).text
    assert "1.8.0 KE  revoked on" in listing and "CVE-2026-0001" in listing, listing
    assert "1.8.0 EE  1 of 1 approvals: threshold met, valid until 2099-12-31T23:59:59Z" in listing, listing

    # An approval that expires drops out: a Python-made statement valid for a few
    # seconds, by a Python-made key that a KE approver registered as a second key. A
    # stack that pins key 0 and that key, threshold 2, wants only RapidPro 9.0.0.
    py = PyApprover()
    holder = ke.approvers[0]
    r = requests.post(reg.api(f"namespaces/{ke.ns}/keys"), json={"public_key": py.public_pem, "name": "python"},
                      headers={"Authorization": f"Bearer {holder['token']}"}, timeout=30)
    assert r.status_code == 201, r.text
    base = (CATALOG / "stack-greenfield-vms.toml").read_text()
    platform = base[base.index("[infrastructure]"):base.index("[policy]")]
    expiry_stack = tmp_path / "ke-expiry.toml"
    expiry_stack.write_text(
        '[stack]\ncountry = "KE"\nname = "Expiry check"\n\n' + platform
        + '[policy]\napproved_only = true\n\n[wants]\npackages = { "rapidpro/rapidpro" = "=9.0.0" }\n'
        + ke.trust_block([ke_keys[0], py.key_id], 2)
    )
    d = digest_of(reg, "rapidpro/rapidpro", "9.0.0")
    until = datetime.now(timezone.utc) + timedelta(seconds=5)
    env = py.envelope(statement("rapidpro/rapidpro", "9.0.0", d, "KE", until=until))
    r = requests.post(reg.api("countries/KE/approvals"), json=env,
                      headers={"Authorization": f"Bearer {holder['token']}"}, timeout=30)
    assert r.status_code == 201, r.text
    res = operator.run("resolve", "--stack", expiry_stack, "--lock", tmp_path / "exp.lock", "--dry-run", registry=reg.url)
    assert "rapidpro/rapidpro" in res.text, res.describe()
    time.sleep(max(0.0, (until - datetime.now(timezone.utc)).total_seconds()) + 1.5)
    res = operator.run("resolve", "--stack", expiry_stack, "--lock", tmp_path / "exp.lock", "--dry-run",
                       registry=reg.url, check=False)
    assert res.returncode == 1, res.describe()
    assert "1 of 2 approvals needed in KE; expired:" in res.stderr, res.describe()


def test_refused_statements_store_nothing(demo_registry, govstore, tmp_path):
    reg = demo_registry
    gh = Country(reg, govstore, tmp_path, "GH", threshold=1, approvers=2)
    other = Country(reg, govstore, tmp_path, "UG", threshold=1, approvers=1)
    approver = gh.approvers[0]
    auth = {"Authorization": f"Bearer {approver['token']}"}
    d_esignet = digest_of(reg, "mosip/esignet", "1.8.0")
    d_xroad = digest_of(reg, "x-road/security-server", "7.8.0")

    def post(env: dict, headers=auth):
        return requests.post(reg.api("countries/GH/approvals"), data=json.dumps(env), headers=headers, timeout=30)

    # A Python approver registered in GH: statements made here are accepted.
    py = PyApprover()
    r = requests.post(reg.api("namespaces/gh/keys"), json={"public_key": py.public_pem}, headers=auth, timeout=30)
    assert r.status_code == 201, r.text
    good = py.envelope(statement("mosip/esignet", "1.8.0", d_esignet, "GH"))

    before, events = recorded(reg, "GH"), last_event(reg)
    unregistered = PyApprover().envelope(statement("mosip/esignet", "1.8.0", d_esignet, "GH"))
    tampered = dict(good)
    payload = json.loads(base64.b64decode(good["payload"]))
    payload["predicate"]["reason"] = "added after signing"
    tampered["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    cases = {
        "an unregistered key": (unregistered, 400, "does not verify against any of the"),
        "a tampered envelope": (tampered, 400, "does not verify"),
        "a digest that is not a published version": (
            py.envelope(statement("mosip/esignet", "1.8.0", "sha256:" + "ab" * 32, "GH")), 400, "is not the manifest digest"),
        "a version that does not exist": (
            py.envelope(statement("mosip/esignet", "9.9.9", d_esignet, "GH")), 404, "is not a published version"),
        "another version's digest under this name (replay)": (
            py.envelope(statement("mosip/esignet", "1.8.0", d_xroad, "GH")), 400, "is not the manifest digest"),
        "a statement for another country": (
            py.envelope(statement("mosip/esignet", "1.8.0", d_esignet, "UG")), 400, "is for UG, not GH"),
        "an expired statement": (
            py.envelope(statement("mosip/esignet", "1.8.0", d_esignet, "GH",
                                  until=datetime.now(timezone.utc) - timedelta(seconds=5))), 400, "validUntil"),
        "a revocation without a reason": (
            py.envelope(statement("mosip/esignet", "1.8.0", d_esignet, "GH", decision="revoked")), 400, "needs a reason"),
    }
    for what, (env, status, message) in cases.items():
        r = post(env)
        assert r.status_code == status, f"{what}: {r.status_code} {r.text}"
        assert message in r.json()["errors"][0]["message"], f"{what}: {r.text}"

    # Another country's key, used by that country's approver for GH.
    ug = other.approvers[0]
    res = ug["cli"].run("approve", "mosip/esignet@1.8.0", "--country", "GH", "--key", ug["key"],
                        token=ug["token"], registry=reg.url, check=False)
    assert res.returncode == 1 and "lacks the scope `approve:GH`" in res.stderr, res.describe()
    # GH's own approver signing with UG's key file: the key is not one of GH's.
    res = approver["cli"].run("approve", "mosip/esignet@1.8.0", "--country", "GH", "--key", ug["key"],
                              token=approver["token"], registry=reg.url, check=False)
    assert res.returncode == 1 and "registered, unrevoked approver keys of GH" in res.stderr, res.describe()

    # An approver demoted to reviewer: their key's statements are refused.
    demoted = gh.approvers[1]
    reg.admin("add-country-member", "GH", demoted["user"], "--role", "reviewer")
    reviewer_token = reg.create_token(demoted["user"], "approve:GH", "review:GH")
    res = demoted["cli"].run("approve", "mosip/esignet@1.8.0", "--country", "GH", "--key", demoted["key"],
                             token=reviewer_token, registry=reg.url, check=False)
    assert res.returncode == 1 and "is not an approver or owner of GH" in res.stderr, res.describe()
    res = approver["cli"].run("approve", "mosip/esignet@1.8.0", "--country", "GH", "--key", demoted["key"],
                              token=approver["token"], registry=reg.url, check=False)
    assert res.returncode == 1 and "who is a reviewer of GH, not an approver" in res.stderr, res.describe()

    # Nothing was stored, no event was appended.
    assert recorded(reg, "GH") == before
    assert last_event(reg) == events

    # The good one is stored once; uploading it again records nothing new.
    r = post(good)
    assert r.status_code == 201, r.text
    assert r.json()["signer"] == approver["user"] and r.json()["key_id"] == py.key_id
    r = post(good)
    assert r.status_code == 200 and r.json()["recorded"] is False, r.text
    assert recorded(reg, "GH") == before + 1
    assert last_event(reg) == events + 1
