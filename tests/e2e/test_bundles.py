"""Country bundles end to end: the real server and CLI on both databases.

A country (SL: 2 of 3 approvers, set up as in test_approvals) approves package versions,
then releases a fully locked set of them as a bundle `SL/national-id@YEAR.N`: an OCI
image index of the members' package manifests, signed by its approvers one by one
(`govstore bundle create` / `sign`). An operator pins SL's approver keys and a
threshold in their own trust file (`govstore trust add`, never trusted on first use) and
installs the bundle with `govstore pull`, which checks the bundle's signatures and each
member's approvals against those pinned keys, not the registry's word, and records in
the install receipt which bundle the directory holds and who signed it. OCI tools see
the bundle as an ordinary image index (plain HTTP here, and skopeo when installed).
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from e2e_helpers import (
    CATALOG,
    OCI_INDEX,
    OCI_MANIFEST,
    GovstoreCli,
    Layout,
    Result,
    Skopeo,
    bootstrap_publisher,
    copy_package,
    errors_of,
    sha256_digest,
    spec_files_for,
)
from test_approvals import Country, digest_of

RECEIPT = ".govstore-receipt.json"
ARTIFACT_TYPE = "application/vnd.govstore.bundle.v1+json"
BUNDLE = "SL/national-id"
REPOSITORY = "sl/national-id"
ESIGNET, XROAD, RAPIDPRO = "mosip/esignet", "x-road/security-server", "rapidpro/rapidpro"
# (namespace, catalog-examples directory, version to publish it as; None: as it is).
SOURCES = [
    ("mosip", "mosip-esignet", None),  # mosip/esignet 1.8.0
    ("x-road", "x-road-security-server", None),  # x-road/security-server 7.8.0
    ("rapidpro", "rapidpro", None),  # rapidpro/rapidpro 9.0.0
    ("rapidpro", "rapidpro", "9.0.1"),  # the upgrade 2026.2 takes
]
FIRST = {ESIGNET: "1.8.0", XROAD: "7.8.0", RAPIDPRO: "9.0.0"}
SECOND = {ESIGNET: "1.8.0", XROAD: "7.8.0", RAPIDPRO: "9.0.1"}
_GREENFIELD = (CATALOG / "stack-greenfield-vms.toml").read_text()
PLATFORM = _GREENFIELD[_GREENFIELD.index("[infrastructure]") : _GREENFIELD.index("[policy]")]


def snapshot(d: Path) -> dict[str, tuple]:
    """Every entry under D with its mode, mtime, size and bytes: equal snapshots mean
    nothing was written, renamed, added or removed."""
    out = {}
    for root, dirs, files in os.walk(d):
        for name in [".", *dirs, *files]:
            p = Path(root) / name if name != "." else Path(root)
            st = p.lstat()
            data = p.read_bytes() if p.is_file() and not p.is_symlink() else None
            out[p.relative_to(d).as_posix()] = (st.st_mode, st.st_mtime_ns, st.st_size, data)
    return out


def short_of_signatures(res: Result, found: int, needed: int) -> None:
    """The pull says how many pinned signatures it found and how many it needs."""
    err = res.stderr
    assert f"{found} of {needed}" in err or (
        f"{found} valid signature(s)" in err and f"{needed} are needed" in err
    ), res.describe()


@dataclass
class World:
    """A fresh signed registry with SL (threshold 2, approvers 0..2), the packages of
    SOURCES published by their namespaces' owners, and an operator with a trust file of
    their own (not created beforehand)."""

    reg: object
    sl: Country
    keys: list[str]
    operator: GovstoreCli
    trust_file: Path
    tmp: Path

    def op(self, *args, check: bool = True, json_out: bool = False) -> Result:
        """The operator's `govstore` (no token), with their trust file."""
        return self.operator.run(
            *args, registry=self.reg.url, env={"GOVSTORE_TRUST_FILE": str(self.trust_file)},
            check=check, json_out=json_out,
        )

    def op_json(self, *args):
        res = self.op(*args, json_out=True)
        try:
            return res.json()
        except ValueError as e:
            raise AssertionError(f"--json output is not JSON ({e})\n{res.describe()}") from None

    def op_fail(self, *args) -> Result:
        """An operator command that must be refused: exit 1 and an `error:` line."""
        res = self.op(*args, check=False)
        assert res.returncode == 1, "expected exit status 1\n" + res.describe()
        assert "error: " in res.stderr, "no `error:` line on stderr\n" + res.describe()
        return res

    def approver(self, i: int, *args, check: bool = True, json_out: bool = True) -> Result:
        """`govstore ARGS` as approver I, with their token (approve:SL)."""
        a = self.sl.approvers[i]
        return a["cli"].run(*args, token=a["token"], registry=self.reg.url, check=check, json_out=json_out)

    def create(self, i: int, ref: str, lock: Path) -> dict:
        a = self.sl.approvers[i]
        return self.approver(i, "bundle", "create", ref, "--from", lock, "--key", a["key"]).json()

    def sign(self, i: int, ref: str) -> dict:
        a = self.sl.approvers[i]
        return self.approver(i, "bundle", "sign", ref, "--key", a["key"]).json()

    def approve(self, wanted: dict[str, str], approvers=(0, 1)) -> None:
        for name, version in wanted.items():
            for i in approvers:
                out = self.sl.approve(i, f"{name}@{version}")
            assert out["state"]["approved"] is True, out

    def lock(self, label: str, wanted: dict[str, str], *, approved_only: bool = True) -> Path:
        """`govstore resolve` of a stack wanting exactly WANTED: with `approved_only` and
        SL's three keys pinned (threshold 2) in its `[trust]`, or without either."""
        pins = ", ".join(f'"{n}" = "={v}"' for n, v in wanted.items())
        text = f'[stack]\ncountry = "SL"\nname = "National ID {label}"\n\n{PLATFORM}'
        text += "[policy]\nallow_prereleases = false\n"
        if approved_only:
            text += "approved_only = true\n"
        text += f"\n[wants]\npackages = {{ {pins} }}\n"
        if approved_only:
            text += self.sl.trust_block(self.keys, 2)
        stack, lock = self.tmp / f"stack-{label}.toml", self.tmp / f"{label}.lock"
        stack.write_text(text)
        self.operator.run("resolve", "--stack", stack, "--lock", lock, registry=self.reg.url)
        assert lock.is_file(), f"resolve wrote no {lock}"
        return lock

    def digests(self, wanted: dict[str, str]) -> dict[str, str]:
        return {n: digest_of(self.reg, n, v) for n, v in wanted.items()}

    def bundle_api(self, version: str) -> requests.Response:
        return requests.get(self.reg.api(f"countries/SL/bundles/national-id/{version}"), timeout=30)

    def pinned(self) -> dict:
        return tomllib.loads(self.trust_file.read_text())["countries"]["SL"]


def make_world(reg, govstore: GovstoreCli, tmp: Path) -> World:
    sl = Country(reg, govstore, tmp, "SL", threshold=2, approvers=3)
    specs = list(dict.fromkeys(f for _, src, _ in SOURCES for f in spec_files_for(src)))
    publishers = {}
    for ns, src, version in SOURCES:
        if ns not in publishers:
            publishers[ns] = bootstrap_publisher(
                reg, govstore.as_user(tmp / f"pub-{ns}-config"), tmp, user=f"pub-{ns}", namespace=ns,
                specs=specs if not publishers else [],
            )
        pkg = copy_package(src, tmp / "sources" / f"{src}-{version or 'as-is'}", version=version)
        publishers[ns].publish(pkg)
    return World(
        reg=reg,
        sl=sl,
        keys=[a["key_id"] for a in sl.approvers],
        operator=govstore.as_user(tmp / "operator-config"),
        trust_file=tmp / "operator-trust" / "trust.toml",
        tmp=tmp,
    )


def members_of(state: dict) -> dict[str, tuple[str, str]]:
    return {m["name"]: (m["version"], m["digest"]) for m in state["members"]}


def assert_pulled(w: World, into: Path, ref: str, digest: str, wanted: dict[str, str], signers: list[str]) -> dict:
    """DIR holds exactly WANTED as DIR/<ns>/<name>, and its receipt names the bundle, its
    digest and the pinned keys that signed it. Returns the receipt."""
    receipt = json.loads((into / RECEIPT).read_text())
    b = receipt["bundle"]
    assert b["reference"] == ref and b["digest"] == digest, b
    assert sorted(b["signers"]) == sorted(signers), (b, signers)
    got = {p["name"]: (p["version"], p["digest"]) for p in receipt["packages"]}
    assert got == {n: (v, digest_of(w.reg, n, v)) for n, v in wanted.items()}, got
    assert sorted(p.name for p in into.iterdir()) == sorted([RECEIPT, *{n.split("/")[0] for n in wanted}])
    for name, version in wanted.items():
        manifest = tomllib.loads((into / name / "govstore.toml").read_text())
        assert manifest["package"]["name"] == name and manifest["package"]["version"] == version, manifest
    return receipt


def test_a_bundle_signed_by_two_of_three_approvers_pulls_and_upgrades(signed_registry, govstore, tmp_path):
    w = make_world(signed_registry, govstore, tmp_path)
    ref1, ref2 = f"{BUNDLE}@2026.1", f"{BUNDLE}@2026.2"
    into = tmp_path / "site"

    # SL approves the first set 2 of 3 and resolves it under approved_only.
    w.approve(FIRST)
    lock1 = w.lock("2026.1", FIRST)

    # Approver 0 makes the bundle: it exists, its members are approved, 1 of 2 signed.
    made = w.create(0, ref1, lock1)
    assert made["reference"] == ref1 and made["repository"] == REPOSITORY and made["version"] == "2026.1", made
    assert made["digest"].startswith("sha256:"), made
    assert members_of(made) == {n: (v, digest_of(w.reg, n, v)) for n, v in FIRST.items()}, made
    assert all(m["approved"] for m in made["members"]), made
    assert made["threshold"] == 2 and made["threshold_met"] is False, made
    assert [(s["key_id"], s["signer"]) for s in made["signatures"]] == [(w.keys[0], "sl-approver0")], made
    digest1 = made["digest"]

    # The operator pins SL's three approver keys, 2 needed; the file is theirs alone.
    w.op("trust", "add", "SL", *(a for k in w.keys for a in ("--key", k)), "--threshold", "2")
    pinned = w.pinned()
    assert pinned["keys"] == w.keys and pinned["threshold"] == 2, w.trust_file.read_text()
    assert w.trust_file.stat().st_mode & 0o077 == 0, oct(w.trust_file.stat().st_mode)
    listed = json.dumps(w.op_json("trust", "list"))
    assert "SL" in listed and all(k in listed for k in w.keys), listed

    # One signature of the two the operator requires: refused, nothing written.
    res = w.op_fail("pull", ref1, "--into", into)
    short_of_signatures(res, 1, 2)
    assert not into.exists(), "a refused pull wrote its directory"

    # A second approver signs: the registry says the threshold is met, and the pull agrees.
    signed = w.sign(1, ref1)
    assert signed["digest"] == digest1 and signed["threshold_met"] is True, signed
    assert sorted(s["key_id"] for s in signed["signatures"]) == sorted(w.keys[:2]), signed
    shown = w.op_json("bundle", "show", ref1)  # public: the operator has no token
    assert shown["digest"] == digest1 and shown["threshold_met"] is True and shown["versions"] == ["2026.1"], shown
    text = w.op("bundle", "show", ref1).text
    assert ref1 in text and all(n in text for n in FIRST), text

    w.op("pull", ref1, "--into", into)
    receipt = assert_pulled(w, into, ref1, digest1, FIRST, w.keys[:2])
    assert not receipt["bundle"].get("overrides"), receipt["bundle"]

    # Pulling the same version again changes nothing.
    before = snapshot(into)
    again = w.op_json("pull", ref1, "--into", into)
    assert again["installed"] == [], again
    assert sorted(again["unchanged"]) == sorted(f"{n}@{v}" for n, v in FIRST.items()), again
    assert snapshot(into) == before, "a no-op pull changed DIR"

    # 2026.2: the approved RapidPro 9.0.1 instead of 9.0.0, signed by approvers 0 and 2.
    w.approve({RAPIDPRO: "9.0.1"}, approvers=(1, 2))
    lock2 = w.lock("2026.2", SECOND)
    made2 = w.create(0, ref2, lock2)
    assert made2["threshold_met"] is False and made2["digest"] != digest1, made2
    signed2 = w.sign(2, ref2)
    assert signed2["threshold_met"] is True and signed2["versions"] == ["2026.1", "2026.2"], signed2
    digest2 = signed2["digest"]

    # The diff names the one member that changed, from which version to which.
    diff = w.op_json("bundle", "diff", ref1, ref2)
    assert diff["added"] == [] and diff["removed"] == [], diff
    [[before_m, after_m]] = diff["changed"]
    assert (before_m["name"], before_m["version"], before_m["digest"]) == (
        RAPIDPRO, "9.0.0", digest_of(w.reg, RAPIDPRO, "9.0.0")), diff
    assert (after_m["name"], after_m["version"], after_m["digest"]) == (
        RAPIDPRO, "9.0.1", digest_of(w.reg, RAPIDPRO, "9.0.1")), diff
    assert sorted(m["name"] for m in diff["unchanged"]) == sorted([ESIGNET, XROAD]), diff
    text = w.op("bundle", "diff", ref1, ref2).text
    assert RAPIDPRO in text and "9.0.0" in text and "9.0.1" in text, text

    # Pulling 2026.2 over 2026.1 swaps RapidPro in and leaves the others untouched.
    kept = {n: snapshot(into / n) for n in (ESIGNET, XROAD)}
    out = w.op_json("pull", ref2, "--into", into)
    assert out["installed"] == [f"{RAPIDPRO}@9.0.1"], out
    assert sorted(out["unchanged"]) == sorted([f"{ESIGNET}@1.8.0", f"{XROAD}@7.8.0"]), out
    assert {n: snapshot(into / n) for n in kept} == kept, "unchanged members were rewritten"
    assert_pulled(w, into, ref2, digest2, SECOND, [w.keys[0], w.keys[2]])


def test_bundle_refusals(signed_registry, govstore, tmp_path):
    w = make_world(signed_registry, govstore, tmp_path)
    ref = f"{BUNDLE}@2026.1"
    into = tmp_path / "site"
    w.approve(FIRST)

    # A member SL has not approved (one approval of the two needed): refused by name,
    # and nothing is stored, neither in the API nor as an OCI tag.
    w.sl.approve(0, f"{RAPIDPRO}@9.0.1")
    unapproved = w.lock("unapproved", SECOND, approved_only=False)
    res = w.approver(0, "bundle", "create", ref, "--from", unapproved, "--key", w.sl.approvers[0]["key"],
                     check=False, json_out=False)
    assert res.returncode == 1 and "error: " in res.stderr, res.describe()
    assert f"{RAPIDPRO}@9.0.1" in res.stderr and "1 of 2 approvals needed in SL" in res.stderr, res.describe()
    errors = errors_of(res)
    assert f"{ESIGNET}@1.8.0" not in errors and f"{XROAD}@7.8.0" not in errors, res.describe()
    w.op_fail("bundle", "show", ref)
    assert w.bundle_api("2026.1").status_code == 404
    r = requests.get(w.reg.v2(f"{REPOSITORY}/manifests/2026.1"), headers={"Accept": OCI_INDEX}, timeout=30)
    assert r.status_code == 404, r.text

    # The approved set, signed by approvers 1 and 2: the registry's threshold is met.
    good = w.lock("good", FIRST)
    w.create(1, ref, good)
    state = w.sign(2, ref)
    assert state["threshold_met"] is True, state
    digest = state["digest"]

    # No keys pinned for SL: refused with the command that pins them; nothing is
    # trusted on first use.
    res = w.op_fail("pull", ref, "--into", into)
    assert "govstore trust add" in res.stderr, res.describe()
    assert not w.trust_file.exists(), "a pull pinned keys by itself"
    assert not into.exists()

    # A first pin needs a threshold.
    res = w.op_fail("trust", "add", "SL", "--key", w.keys[0])
    assert "--threshold" in res.stderr, res.describe()

    # Only approver 0 pinned: two signatures the registry counts, none the operator does.
    w.op("trust", "add", "SL", "--key", w.keys[0], "--threshold", "1")
    res = w.op_fail("pull", ref, "--into", into)
    short_of_signatures(res, 0, 1)
    assert not into.exists()

    # Bundle versions never change: 2026.1 with other members is refused, the stored
    # one is untouched.
    fewer = w.lock("fewer", {ESIGNET: "1.8.0", XROAD: "7.8.0"})
    res = w.approver(0, "bundle", "create", ref, "--from", fewer, "--key", w.sl.approvers[0]["key"],
                     check=False, json_out=False)
    assert res.returncode == 1 and "2026.1" in res.stderr, res.describe()
    shown = w.op_json("bundle", "show", ref)
    assert shown["digest"] == digest and sorted(members_of(shown)) == sorted(FIRST), shown
    assert sorted(s["key_id"] for s in shown["signatures"]) == sorted(w.keys[1:]), shown

    # Pin the other two keys, 2 needed; then approver 0 revokes eSignet after signing.
    w.op("trust", "add", "SL", "--key", w.keys[1], "--key", w.keys[2], "--threshold", "2")
    pinned = w.pinned()
    assert pinned["keys"] == w.keys and pinned["threshold"] == 2, w.trust_file.read_text()
    reason = "CVE-2026-0002: session fixation"
    out = w.sl.revoke(0, f"{ESIGNET}@1.8.0", reason)
    assert out["state"]["approved"] is False, out
    shown = w.op_json("bundle", "show", ref)
    esignet = next(m for m in shown["members"] if m["name"] == ESIGNET)
    assert esignet["approved"] is False and reason in esignet.get("why_not", ""), shown

    # The pull refuses the revoked member, naming it and the reason.
    res = w.op_fail("pull", ref, "--into", into)
    assert f"{ESIGNET}@1.8.0" in res.stderr and reason in res.stderr, res.describe()
    assert not into.exists(), "a refused pull wrote its directory"

    # --allow-revoked installs it and the receipt records the override.
    w.op("pull", ref, "--into", into, "--allow-revoked")
    receipt = assert_pulled(w, into, ref, digest, FIRST, w.keys[1:])
    overrides = receipt["bundle"]["overrides"]
    assert any(f"{ESIGNET}@1.8.0" in o for o in overrides), overrides


def test_a_bundle_is_an_oci_index_that_oci_tools_read(signed_registry, govstore, tmp_path):
    w = make_world(signed_registry, govstore, tmp_path)
    ref = f"{BUNDLE}@2026.1"
    w.approve(FIRST)
    w.create(0, ref, w.lock("2026.1", FIRST))
    digest = w.sign(1, ref)["digest"]
    member_digests = w.digests(FIRST)

    # The tag serves the image index whose bytes hash to the bundle digest.
    r = requests.get(w.reg.v2(f"{REPOSITORY}/manifests/2026.1"), headers={"Accept": OCI_INDEX}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == OCI_INDEX, r.headers
    assert sha256_digest(r.content) == digest and r.headers.get("Docker-Content-Digest") == digest, r.headers
    index = r.json()
    assert index["mediaType"] == OCI_INDEX and index["artifactType"] == ARTIFACT_TYPE, index
    assert [m["digest"] for m in index["manifests"]] == [member_digests[n] for n in sorted(FIRST)], index
    assert all(m["mediaType"] == OCI_MANIFEST for m in index["manifests"]), index

    # Each member manifest, and its blobs, can be read through the bundle's repository.
    blobs = []
    for m in index["manifests"]:
        mr = requests.get(w.reg.v2(f"{REPOSITORY}/manifests/{m['digest']}"), headers={"Accept": OCI_MANIFEST}, timeout=30)
        assert mr.status_code == 200 and sha256_digest(mr.content) == m["digest"] and len(mr.content) == m["size"], mr.text
        manifest = mr.json()
        for d in [manifest["config"], *manifest["layers"]]:
            blobs.append(d["digest"])
            br = requests.head(w.reg.v2(f"{REPOSITORY}/blobs/{d['digest']}"), timeout=30)
            assert br.status_code == 200, (d, br.status_code)

    if not shutil.which("skopeo"):
        return  # the skopeo half needs skopeo (apt-get install skopeo)
    skopeo = Skopeo(tmp_path / "skopeo")
    docker_ref = f"docker://{w.reg.host}/{REPOSITORY}:2026.1"
    raw = skopeo.remote("inspect", docker_ref, "--raw").stdout
    assert raw == r.content and sha256_digest(raw) == digest
    out = Layout(tmp_path / "oci-copy")
    skopeo.copy(docker_ref, f"oci:{out.path}:2026.1", "--all", "--preserve-digests")
    assert out.ref("2026.1")["digest"] == digest, out.index()
    assert out.read_blob(digest) == r.content
    for m in index["manifests"]:
        assert out.has_blob(m["digest"]), m
    for d in blobs:
        assert out.has_blob(d), d


def test_a_bundle_copied_registry_to_registry_keeps_its_digest_and_its_signatures_verify_elsewhere(
    signed_registry, govstore, tmp_path
):
    """The bundle's cosign `.sig` and its DSSE statements (the `.att`) verify with the
    Python `cryptography` package against the approvers' public keys; and `skopeo copy
    --all --preserve-digests` to another registry (the CNCF distribution one) keeps the
    index digest, with every member manifest there by digest."""
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from e2e_helpers import COSIGN_SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, spki_key_id
    from test_approvals import pae

    w = make_world(signed_registry, govstore, tmp_path)
    ref = f"{BUNDLE}@2026.1"
    w.approve(FIRST)
    w.create(0, ref, w.lock("2026.1", FIRST))
    digest = w.sign(1, ref)["digest"]
    hexd = digest.removeprefix("sha256:")
    r = requests.get(w.reg.v2(f"{REPOSITORY}/manifests/2026.1"), headers={"Accept": OCI_INDEX}, timeout=30)
    assert r.status_code == 200 and sha256_digest(r.content) == digest, r.text
    index_bytes, index = r.content, r.json()
    pubs = {a["key_id"]: serialization.load_pem_public_key(a["pub"].encode()) for a in w.sl.approvers}
    assert all(spki_key_id(a["pub"]) == a["key_id"] for a in w.sl.approvers)

    def manifest(reference: str) -> dict:
        mr = requests.get(w.reg.v2(f"{REPOSITORY}/manifests/{reference}"), headers={"Accept": OCI_MANIFEST}, timeout=30)
        assert mr.status_code == 200, (reference, mr.status_code, mr.text)
        return mr.json()

    def blob(d: dict) -> bytes:
        br = requests.get(w.reg.v2(f"{REPOSITORY}/blobs/{d['digest']}"), timeout=30)
        assert br.status_code == 200 and sha256_digest(br.content) == d["digest"] and len(br.content) == d["size"], d
        return br.content

    def verifiers(sig: bytes, message: bytes) -> set[str]:
        ok = set()
        for key_id, public in pubs.items():
            try:
                public.verify(sig, message, ec.ECDSA(hashes.SHA256()))
                ok.add(key_id)
            except InvalidSignature:
                pass
        return ok

    # The cosign `.sig`: one simple-signing layer per approver who signed, naming this
    # index digest and the bundle's repository; ECDSA P-256/SHA-256 over the payload.
    sig_manifest = manifest(f"sha256-{hexd}.sig")
    signed_by = []
    for layer in sig_manifest["layers"]:
        assert layer["mediaType"] == SIMPLE_SIGNING_MEDIA_TYPE, layer
        payload = blob(layer)
        simple = json.loads(payload)
        assert simple["critical"]["type"] == "cosign container image signature", simple
        assert simple["critical"]["image"]["docker-manifest-digest"] == digest, simple
        named = simple["critical"]["identity"]["docker-reference"]
        assert named == REPOSITORY or named.endswith(f"/{REPOSITORY}"), simple
        sig = base64.b64decode(layer["annotations"][COSIGN_SIGNATURE_ANNOTATION], validate=True)
        [key_id] = verifiers(sig, payload)
        signed_by.append(key_id)
        # ... and the check is real: another digest in the payload does not verify.
        assert not verifiers(sig, payload.replace(hexd.encode(), b"0" * 64))
    assert sorted(signed_by) == sorted(w.keys[:2]), (signed_by, w.keys)

    # The DSSE bundle statements (the `.att` layers, the same as the API lists): each
    # verifies over the PAE bytes with its approver's key and names this bundle and
    # index digest.
    att = manifest(f"sha256-{hexd}.att")
    envelopes = [json.loads(blob(layer)) for layer in att["layers"]]
    assert len(envelopes) == 2, att
    api = w.bundle_api("2026.1").json()
    if "envelopes" in api:
        assert sorted(map(json.dumps, api["envelopes"])) == sorted(map(json.dumps, envelopes)), api["envelopes"]
    stated_by = []
    for env in envelopes:
        [s] = env["signatures"]
        payload = base64.b64decode(env["payload"])
        message = pae(env["payloadType"], payload)
        assert verifiers(base64.b64decode(s["sig"]), message) == {s["keyid"]}, env
        assert not verifiers(base64.b64decode(s["sig"]), pae(env["payloadType"], payload + b" ")), env
        statement = json.loads(payload)
        assert statement["_type"] == "https://in-toto.io/Statement/v1", statement
        assert statement["subject"] == [{"name": ref, "digest": {"sha256": hexd}}], statement
        stated_by.append(s["keyid"])
    assert sorted(stated_by) == sorted(w.keys[:2]), stated_by

    # Registry to registry: a reference registry (docker-registry, CNCF distribution).
    if not (shutil.which("skopeo") and shutil.which("docker-registry")):
        pytest.skip("the registry-to-registry copy needs skopeo and docker-registry (apt-get install both)")
    from conftest import _dispose, _start_reference, _wait_ready

    workdir = tmp_path / "reference-registry"
    workdir.mkdir()
    other = _start_reference(workdir, allow_delete=False)
    try:
        _wait_ready(other)
        skopeo = Skopeo(tmp_path / "skopeo")
        src = f"docker://{w.reg.host}/{REPOSITORY}:2026.1"
        dest = f"docker://{other.host}/{REPOSITORY}:2026.1"
        skopeo.copy(src, dest, "--all", "--preserve-digests")
        raw = skopeo.remote("inspect", dest, "--raw").stdout
        assert raw == index_bytes and sha256_digest(raw) == digest, raw[:300]
        got = requests.get(other.v2(f"{REPOSITORY}/manifests/2026.1"), headers={"Accept": OCI_INDEX}, timeout=30)
        assert got.status_code == 200 and got.content == index_bytes, got.text
        assert got.headers.get("Docker-Content-Digest") == digest, got.headers
        for m in index["manifests"]:
            mr = requests.get(other.v2(f"{REPOSITORY}/manifests/{m['digest']}"), headers={"Accept": OCI_MANIFEST},
                              timeout=30)
            assert mr.status_code == 200 and sha256_digest(mr.content) == m["digest"], (m, mr.status_code, mr.text)
            for d in [mr.json()["config"], *mr.json()["layers"]]:
                br = requests.head(other.v2(f"{REPOSITORY}/blobs/{d['digest']}"), timeout=30)
                assert br.status_code == 200, (d, br.status_code)
    finally:
        _dispose(other, workdir)
