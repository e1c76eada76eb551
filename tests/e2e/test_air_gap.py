"""Air-gapped bundles end to end: `govstore export` writes a country-signed bundle, every
proof it needs and the trust material to check them as one OCI image layout tar;
`govstore pull --from FILE` installs it with no registry reachable at all, after
re-hashing every blob and verifying the bundle statements, each member's approvals
(against the operator's pinned SL keys) and publisher signature. Tampered exports are
refused with a message naming what failed, and nothing is written. skopeo and the
Python oras client read the export as a plain OCI layout.

The world (SL with 2 of 3 approvers, three published packages, an operator with a
trust file of their own) is test_bundles'.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import socket
import tarfile
from pathlib import Path

import requests

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from e2e_helpers import Layout, Skopeo, sha256_digest
from test_approvals import pae
from test_bundles import BUNDLE, FIRST, RECEIPT, World, assert_pulled, make_world

TRUST_MEDIA_TYPE = "application/vnd.govstore.trust.v1+json"
TRUST_ANNOTATION = "dev.govstore.export.trust"
REF_NAME = "org.opencontainers.image.ref.name"


def closed_port_url() -> str:
    """A URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def offline(w: World, *args, check: bool = True, json_out: bool = False):
    """The operator's `govstore`, pointed at a closed port: no registry is reachable."""
    return w.operator.run(
        *args, registry=closed_port_url(), env={"GOVSTORE_TRUST_FILE": str(w.trust_file)},
        check=check, json_out=json_out,
    )


def refused(w: World, into: Path, source: Path, *needles: str) -> str:
    """`pull --from SOURCE` is refused, its message names every NEEDLE, and neither DIR
    nor a staging directory is left behind."""
    res = offline(w, "pull", "--from", source, "--into", into, check=False)
    assert res.returncode == 1 and "error: " in res.stderr, res.describe()
    for n in needles:
        assert n in res.stderr, f"{n!r} not in the refusal\n{res.describe()}"
    assert not into.exists(), "a refused pull wrote its directory\n" + res.describe()
    leftovers = [p.name for p in into.parent.iterdir() if p.name.startswith(".govstore-import-")]
    assert not leftovers, leftovers
    return res.stderr


def members_of_tar(path: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(path) as t:
        return [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]


def repack(dest: Path, entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(dest, "w", format=tarfile.USTAR_FORMAT) as t:
        for info, data in entries:
            info = tarfile.TarInfo(info.name) if not isinstance(info, tarfile.TarInfo) else info
            if data is not None:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)
    return dest


def file_entry(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, data


class Export:
    """An export read in the test: index.json, blobs by digest, the trust material."""

    def __init__(self, path: Path):
        self.entries = members_of_tar(path)
        self.files = {i.name: d for i, d in self.entries if d is not None}
        self.index = json.loads(self.files["index.json"])
        self.trust_desc = next(d for d in self.index["manifests"] if TRUST_ANNOTATION in d.get("annotations", {}))
        self.trust = json.loads(self.blob(self.trust_desc["digest"]))

    def blob(self, digest: str) -> bytes:
        return self.files["blobs/sha256/" + digest.removeprefix("sha256:")]

    def with_trust(self, dest: Path, trust: dict) -> Path:
        """A consistent re-pack: the edited trust material under its own digest, and
        index.json naming it."""
        data = json.dumps(trust, indent=2).encode()
        digest = sha256_digest(data)
        index = json.loads(json.dumps(self.index))
        for d in index["manifests"]:
            if d["digest"] == self.trust_desc["digest"]:
                d["digest"], d["size"] = digest, len(data)
        old = "blobs/sha256/" + self.trust_desc["digest"].removeprefix("sha256:")
        entries = []
        for info, body in self.entries:
            if info.name == "index.json":
                entries.append(file_entry("index.json", json.dumps(index).encode()))
            elif info.name == old:
                entries.append(file_entry("blobs/sha256/" + digest.removeprefix("sha256:"), data))
            else:
                entries.append((info, body))
        return repack(dest, entries)


def sign_envelope_with_new_key(envelope: dict) -> tuple[dict, str]:
    """The same statement signed by a key nobody registered; returns the envelope and
    the key's PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = "sha256:" + hashlib.sha256(der).hexdigest()
    payload = base64.b64decode(envelope["payload"])
    sig = key.sign(pae(envelope["payloadType"], payload), ec.ECDSA(hashes.SHA256()))
    out = {
        "payloadType": envelope["payloadType"],
        "payload": envelope["payload"],
        "signatures": [{"keyid": key_id, "sig": base64.b64encode(sig).decode()}],
    }
    return out, pem


def signed_bundle(w: World) -> tuple[str, str]:
    """SL/national-id@2026.1 of FIRST, signed by approvers 0 and 1 (2 of 3), with the
    operator pinning all three keys, 2 needed."""
    ref = f"{BUNDLE}@2026.1"
    w.approve(FIRST)
    w.create(0, ref, w.lock("2026.1", FIRST))
    digest = w.sign(1, ref)["digest"]
    w.op("trust", "add", "SL", *(a for k in w.keys for a in ("--key", k)), "--threshold", "2")
    return ref, digest


def test_export_and_pull_from_the_file_with_no_registry(signed_registry, govstore, tmp_path):
    w = make_world(signed_registry, govstore, tmp_path)
    ref, digest = signed_bundle(w)
    out = tmp_path / "media"
    out.mkdir()
    tar = out / "national-id-2026.1.tar"

    # Export: verified online first, then one tar; the same bundle gives the same bytes.
    made = w.op_json("export", ref, "-o", tar)
    assert made["digest"] == digest and sorted(made["signers"]) == sorted(w.keys[:2]), made
    assert made["archive_digest"] == sha256_digest(tar.read_bytes()), made
    again = tmp_path / "again.tar"
    w.op("export", ref, "-o", again)
    assert sha256_digest(again.read_bytes()) == sha256_digest(tar.read_bytes()), "two exports differ"
    assert not [p for p in out.iterdir() if p.name.startswith(".govstore-export-")]

    # What it holds: the bundle index under its version, every cosign tag, the trust
    # material with SL's keys, the publishers' keys, the statements and approvals.
    e = Export(tar)
    refs = {d.get("annotations", {}).get(REF_NAME): d for d in e.index["manifests"]}
    assert refs["2026.1"]["digest"] == digest, e.index
    bundle_index = json.loads(e.blob(digest))
    for m in bundle_index["manifests"]:
        hexd = m["digest"].removeprefix("sha256:")
        assert f"sha256-{hexd}.sig" in refs, (m, sorted(k for k in refs if k))
        assert f"sha256-{hexd}.att" in refs, (m, sorted(k for k in refs if k))
        manifest = json.loads(e.blob(m["digest"]))
        for layer in [manifest["config"], *manifest["layers"]]:
            assert sha256_digest(e.blob(layer["digest"])) == layer["digest"]
    hexd = digest.removeprefix("sha256:")
    assert f"sha256-{hexd}.sig" in refs and f"sha256-{hexd}.att" in refs, sorted(k for k in refs if k)
    assert e.trust_desc["mediaType"] == TRUST_MEDIA_TYPE and e.trust["version"] == 1, e.trust_desc
    assert e.trust["bundle"]["reference"] == ref and e.trust["bundle"]["digest"] == digest
    assert len(e.trust["bundle"]["envelopes"]) == 2, e.trust["bundle"]
    assert sorted(k["key_id"] for k in e.trust["country"]["keys"]) == sorted(w.keys), e.trust["country"]
    assert {p["namespace"] for p in e.trust["publishers"]} == {n.split("/")[0] for n in FIRST}
    assert all(len(m["approvals"]) >= 2 for m in e.trust["members"]), e.trust["members"]

    # pull --from with no registry reachable: installs, receipt names the bundle.
    into = tmp_path / "site" / "national-id"
    into.parent.mkdir()
    res = offline(w, "pull", "--from", tar, "--into", into, json_out=True)
    pulled = res.json()
    v = pulled["verified"]
    assert v["bundle_statements"] == 2 and v["threshold"] == 2, v
    assert v["publisher_signatures"] == 3 and v["approvals"] == 6 and v["bundle_cosign_signatures"] == 2, v
    assert v["archive"]["blobs"] == len(e.files) - 2, v  # every blob re-hashed
    assert sorted(v["country_keys"]) == sorted(w.keys), v
    assert sorted(pulled["install"]["installed"]) == sorted(f"{n}@{x}" for n, x in FIRST.items()), pulled
    assert_pulled(w, into, ref, digest, FIRST, w.keys[:2])
    text = offline(w, "pull", "--from", tar, "--into", into).text
    assert "up to date" in text and "re-hashed" in text, text
    assert "2 of 2 pinned signatures verified" in text and "cosign signatures of the index by pinned keys: 2" in text, text

    # Split into parts, then pulled from the parts list.
    size = tar.stat().st_size // 4 + 1
    parts_base = out / "split" / "national-id-2026.1.tar"
    parts_base.parent.mkdir()
    w.op("export", ref, "-o", parts_base, "--split", str(size))
    parts_json = Path(f"{parts_base}.parts.json")
    parts = json.loads(parts_json.read_text())
    assert len(parts["parts"]) == 4 and parts["sha256"] == sha256_digest(tar.read_bytes()).removeprefix("sha256:"), parts
    into2 = tmp_path / "site" / "from-parts"
    offline(w, "pull", "--from", parts_json, "--into", into2)
    assert_pulled(w, into2, ref, digest, FIRST, w.keys[:2])

    # --- tampering: each refused with a clear message, nothing written --------------
    bad = tmp_path / "bad"
    bad.mkdir()
    target = tmp_path / "site" / "tampered"

    # A flipped byte in a member's content blob.
    member = json.loads(e.blob(bundle_index["manifests"][0]["digest"]))
    content = member["layers"][0]["digest"]
    with tarfile.open(tar) as t:
        info = t.getmember("blobs/sha256/" + content.removeprefix("sha256:"))
    flipped = bytearray(tar.read_bytes())
    flipped[info.offset_data + info.size // 2] ^= 1
    (bad / "flipped.tar").write_bytes(bytes(flipped))
    refused(w, target, bad / "flipped.tar", content, "does not match its digest")

    # A removed approval, edited in place: the trust material's digest no longer holds.
    trust = json.loads(json.dumps(e.trust))
    name = trust["members"][0]["name"]
    version = trust["members"][0]["version"]
    sl = [a for a in trust["members"][0]["approvals"] if a["country"] == "SL"]
    trust["members"][0]["approvals"] = [a for a in trust["members"][0]["approvals"] if a is not sl[0]]
    old = "blobs/sha256/" + e.trust_desc["digest"].removeprefix("sha256:")
    edited = json.dumps(trust, indent=2).encode()
    repack(bad / "edited-in-place.tar", [
        (file_entry(i.name, edited) if i.name == old else (i, d)) for i, d in e.entries
    ])
    refused(w, target, bad / "edited-in-place.tar", e.trust_desc["digest"], "does not match its digest")

    # ... and re-packed consistently: the approval threshold then fails.
    e.with_trust(bad / "removed-approval.tar", trust)
    refused(w, target, bad / "removed-approval.tar", f"{name}@{version}", "1 of 2")

    # A bundle signature by an unregistered key (its PEM slipped into the country's
    # keys): one pinned signature remains, two are needed.
    trust = json.loads(json.dumps(e.trust))
    forged, pem = sign_envelope_with_new_key(trust["bundle"]["envelopes"][0])
    trust["bundle"]["envelopes"] = [trust["bundle"]["envelopes"][0], forged]
    trust["country"]["keys"].append({"key_id": "sha256:" + "0" * 64, "public_key": pem})
    e.with_trust(bad / "stranger.tar", trust)
    refused(w, target, bad / "stranger.tar", "1 valid signature(s)", "2 are needed")

    # A missing part, and parts swapped.
    split_dir = parts_base.parent
    missing = bad / "missing"
    shutil.copytree(split_dir, missing)
    (missing / "national-id-2026.1.tar.part-0002").unlink()
    refused(w, target, missing / "national-id-2026.1.tar.parts.json", "national-id-2026.1.tar.part-0002", "missing")
    swapped = bad / "swapped"
    shutil.copytree(split_dir, swapped)
    p1, p2 = swapped / "national-id-2026.1.tar.part-0001", swapped / "national-id-2026.1.tar.part-0002"
    tmp = swapped / "tmp"
    p1.rename(tmp)
    p2.rename(p1)
    tmp.rename(p2)
    refused(w, target, swapped / "national-id-2026.1.tar.parts.json", "national-id-2026.1.tar.part-0001")

    # A path traversal entry, and a symlink in the layout.
    repack(bad / "traversal.tar", [*e.entries, file_entry("../escape", b"x")])
    refused(w, target, bad / "traversal.tar", "../escape", "`..`")
    link = tarfile.TarInfo("blobs/sha256/" + "a" * 64)
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    repack(bad / "symlink.tar", [*e.entries, (link, None)])
    refused(w, target, bad / "symlink.tar", "symbolic link")

    # A pin set the export's keys do not match: refused before anything else.
    other_trust = tmp_path / "other-trust.toml"
    res = w.operator.run(
        "pull", "--from", tar, "--into", target, registry=closed_port_url(),
        env={"GOVSTORE_TRUST_FILE": str(other_trust)}, check=False,
    )
    assert res.returncode == 1 and "govstore trust add" in res.stderr, res.describe()
    assert not target.exists()


def test_skopeo_and_oras_read_the_export(signed_registry, govstore, tmp_path):
    w = make_world(signed_registry, govstore, tmp_path)
    ref, digest = signed_bundle(w)
    tar = tmp_path / "national-id-2026.1.tar"
    w.op("export", ref, "-o", tar)
    e = Export(tar)
    index = json.loads(e.blob(digest))

    # oras (Python): the extracted layout validates, and the bundle and a member's
    # signature resolve by their ref names to their blobs.
    import oras.layout

    layout_dir = tmp_path / "layout"
    with tarfile.open(tar) as t:
        t.extractall(layout_dir, filter="data")
    lay = oras.layout.Layout(str(layout_dir))
    blobs = lay.get_ordered_blobs("2026.1")
    assert blobs[-1] == digest, blobs
    for m in index["manifests"]:
        assert m["digest"] in blobs and lay.blob_exists(m["digest"]), m
        sig = lay.get_ordered_blobs(f"sha256-{m['digest'].removeprefix('sha256:')}.sig")
        assert len(sig) >= 2 and all(lay.blob_exists(d) for d in sig), sig

    if not shutil.which("skopeo"):
        return  # the skopeo half needs skopeo (apt-get install skopeo)
    skopeo = Skopeo(tmp_path / "skopeo")
    raw = skopeo.run("inspect", "--raw", f"oci-archive:{tar}:2026.1").stdout
    assert raw == e.blob(digest) and sha256_digest(raw) == digest
    out = Layout(tmp_path / "oci-copy")
    skopeo.copy(f"oci-archive:{tar}:2026.1", f"oci:{out.path}:2026.1", "--all", "--preserve-digests")
    assert out.ref("2026.1")["digest"] == digest, out.index()
    for m in index["manifests"]:
        assert out.has_blob(m["digest"]), m


def test_import_verifies_offline_first_and_names_what_govstore_refuses(
    signed_registry, registry_factory, govstore, tmp_path
):
    """`govstore import` verifies the whole export before contacting the target; then it
    pushes over plain OCI. A second govstore takes package manifests only through its
    publish API, so it refuses them: the import stops with that server's refusal and
    says what is missing, instead of claiming success."""
    from e2e_helpers import bootstrap_publisher, manifest_status

    w = make_world(signed_registry, govstore, tmp_path)
    ref, digest = signed_bundle(w)
    tar = tmp_path / "national-id-2026.1.tar"
    w.op("export", ref, "-o", tar)
    e = Export(tar)
    env = {"GOVSTORE_TRUST_FILE": str(w.trust_file), "GOVSTORE_TOKEN": "gvs_unused"}

    # Tampered: refused offline, with no registry reachable.
    repack(tmp_path / "traversal.tar", [*e.entries, file_entry("../escape", b"x")])
    res = w.operator.run("import", tmp_path / "traversal.tar", registry=closed_port_url(), env=env, check=False)
    assert res.returncode == 1 and "`..`" in res.stderr, res.describe()

    # Verified, then pushed to a second govstore with no route to the first.
    second = registry_factory(anonymous_push=False, allow_delete=False)
    target = bootstrap_publisher(second, govstore.as_user(tmp_path / "target-config"), tmp_path, user="mirror",
                                 namespace="mosip")
    env["GOVSTORE_TOKEN"] = target.token
    res = w.operator.run("import", tar, registry=second.url, env=env, check=False)
    assert res.returncode == 1 and "error: " in res.stderr, res.describe()
    assert "refused manifest" in res.stderr and "publish API" in res.stderr, res.describe()
    member = json.loads(e.blob(digest))["manifests"][0]["digest"]
    assert manifest_status(second, "mosip/esignet", member) == 404


def canonical_json(doc) -> bytes:
    """govstore's canonical JSON (sorted keys, no spaces): how a bundle index is written."""
    return json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def test_other_country_approvals_swapped_members_and_revocations_offline(signed_registry, govstore, tmp_path):
    """More tampering, each refused offline with a message naming what failed and nothing
    written: a member's SL approvals replaced by valid approvals of another country (KE);
    a member swapped for another signed, SL-approved version of the same package, in the
    bundle index (the bundle signatures no longer hold) or in the member's manifest blob
    (re-hashing fails); and a member revoked after signing, whose revocation travels in
    the export: refused with its reason, installed with `--allow-revoked` and recorded."""
    from test_approvals import Country, verify_envelope

    from test_bundles import ESIGNET, RAPIDPRO, SECOND

    w = make_world(signed_registry, govstore, tmp_path)
    ref, digest = signed_bundle(w)

    # KE, with approvers of its own, approves eSignet 1.8.0 on the same server.
    ke = Country(w.reg, govstore, tmp_path, "KE", threshold=2, approvers=2)
    for i in range(2):
        out = ke.approve(i, f"{ESIGNET}@1.8.0")
    assert out["state"]["approved"] is True, out

    # 2026.2: RapidPro 9.0.1, published, signed by its publisher and approved by SL.
    ref2 = f"{BUNDLE}@2026.2"
    w.approve({RAPIDPRO: "9.0.1"})
    w.create(0, ref2, w.lock("2026.2", SECOND))
    digest2 = w.sign(1, ref2)["digest"]

    media = tmp_path / "media"
    media.mkdir()
    tar, tar2 = media / "national-id-2026.1.tar", media / "national-id-2026.2.tar"
    w.op("export", ref, "-o", tar)
    w.op("export", ref2, "-o", tar2)
    e, e2 = Export(tar), Export(tar2)
    bad = tmp_path / "bad"
    bad.mkdir()
    target = tmp_path / "site" / "national-id"
    target.parent.mkdir()

    def member_at(trust: dict, name: str) -> dict:
        return next(m for m in trust["members"] if m["name"] == name)

    # --- (a) an approval of another country ------------------------------------------
    # The export carries every country's statements; KE's two verify (with
    # `cryptography`) and name KE.
    esignet = member_at(e.trust, ESIGNET)
    ke_pubs = {a["key_id"]: a["pub"] for a in ke.approvers}
    ke_approvals = [a for a in esignet["approvals"] if a["country"] == "KE"]
    assert len(ke_approvals) == 2, esignet["approvals"]
    for a in ke_approvals:
        [sig] = a["envelope"]["signatures"]
        statement = verify_envelope(a["envelope"], ke_pubs[sig["keyid"]])
        assert statement["predicate"]["country"] == "KE", statement
        assert statement["subject"][0]["digest"]["sha256"] == esignet["digest"].removeprefix("sha256:"), statement

    # eSignet's SL approvals replaced by KE's: eSignet lacks SL approvals.
    trust = json.loads(json.dumps(e.trust))
    member_at(trust, ESIGNET)["approvals"] = [json.loads(json.dumps(a)) for a in ke_approvals]
    e.with_trust(bad / "ke-approvals.tar", trust)
    refused(w, target, bad / "ke-approvals.tar", f"{ESIGNET}@1.8.0: 0 of 2 approvals needed in SL")
    # --allow-revoked covers approvals revoked or expired, never ones that are missing.
    res = offline(w, "pull", "--from", bad / "ke-approvals.tar", "--into", target, "--allow-revoked", check=False)
    assert res.returncode == 1 and "never approved by the pinned keys cannot be allowed" in res.stderr, res.describe()
    assert not target.exists(), res.describe()

    # ... and relabelled as SL's, with KE's approver keys slipped into SL's keys: KE's
    # keys are not pinned for SL and the statements name KE, so still nothing counts.
    trust = json.loads(json.dumps(e.trust))
    member_at(trust, ESIGNET)["approvals"] = [{**json.loads(json.dumps(a)), "country": "SL"} for a in ke_approvals]
    trust["country"]["keys"] += [{"key_id": a["key_id"], "public_key": a["pub"]} for a in ke.approvers]
    e.with_trust(bad / "ke-as-sl.tar", trust)
    refused(w, target, bad / "ke-as-sl.tar", f"{ESIGNET}@1.8.0: 0 of 2 approvals needed in SL")

    # --- (b) a member swapped for another signed version of the same package ----------
    index = json.loads(e.blob(digest))
    assert canonical_json(index) == e.blob(digest), "the bundle index is not canonical JSON"
    old = next(m for m in index["manifests"] if m["annotations"]["dev.govstore.package.version"] == "9.0.0")
    new = next(m for m in json.loads(e2.blob(digest2))["manifests"]
               if m["annotations"]["dev.govstore.package.version"] == "9.0.1")
    assert old["digest"] != new["digest"] and old["annotations"]["dev.govstore.package.name"] == RAPIDPRO, (old, new)
    swapped = json.loads(json.dumps(index))
    swapped["manifests"] = [new if m is old or m == old else m for m in swapped["manifests"]]
    swapped_bytes = canonical_json(swapped)
    swapped_digest = sha256_digest(swapped_bytes)
    # Everything 9.0.1 needs comes from the 2026.2 export (its manifest, blobs, its
    # publisher's .sig and SL's approval .att); the trust material names 9.0.1 with
    # its SL approvals and the new index digest. Only the bundle statements cannot be
    # re-made.
    trust = json.loads(json.dumps(e.trust))
    trust["bundle"]["digest"] = swapped_digest
    trust["members"] = [member_at(e2.trust, RAPIDPRO) if m["name"] == RAPIDPRO else m for m in trust["members"]]
    trust_bytes = json.dumps(trust, indent=2).encode()
    trust_digest = sha256_digest(trust_bytes)
    new_hex = new["digest"].removeprefix("sha256:")
    roots = []
    for d in e.index["manifests"]:
        d = json.loads(json.dumps(d))
        if d["digest"] == digest:
            d["digest"], d["size"] = swapped_digest, len(swapped_bytes)
        elif d["digest"] == e.trust_desc["digest"]:
            d["digest"], d["size"] = trust_digest, len(trust_bytes)
        roots.append(d)
    roots += [d for d in e2.index["manifests"]
              if d.get("annotations", {}).get(REF_NAME, "").startswith(f"sha256-{new_hex}.")]
    assert len(roots) == len(e.index["manifests"]) + 2, roots
    entries = [(file_entry("index.json", json.dumps({**e.index, "manifests": roots}).encode())
                if i.name == "index.json" else (i, d)) for i, d in e.entries
               if i.name != "blobs/sha256/" + e.trust_desc["digest"].removeprefix("sha256:")]
    entries += [(i, d) for i, d in e2.entries if d is not None and i.name not in e.files]
    entries += [file_entry("blobs/sha256/" + swapped_digest.removeprefix("sha256:"), swapped_bytes),
                file_entry("blobs/sha256/" + trust_digest.removeprefix("sha256:"), trust_bytes)]
    repack(bad / "swapped-member.tar", entries)
    refused(w, target, bad / "swapped-member.tar", "the bundle's signatures", swapped_digest,
            "0 valid signature(s)", "2 are needed")

    # The index left alone, the member's manifest blob swapped for 9.0.1's: re-hashing
    # refuses it.
    name = "blobs/sha256/" + old["digest"].removeprefix("sha256:")
    repack(bad / "swapped-blob.tar", [
        (file_entry(name, e2.blob(new["digest"])) if i.name == name else (i, d)) for i, d in e.entries
    ])
    refused(w, target, bad / "swapped-blob.tar", old["digest"], "does not match its digest")

    # --- (c) revoked after signing, the revocation in the export ----------------------
    reason = "CVE-2026-0003: token replay"
    assert w.sl.revoke(0, f"{ESIGNET}@1.8.0", reason)["state"]["approved"] is False
    # The registry no longer exports the bundle (a revoked member), and says why.
    res = w.op_fail("export", ref, "-o", media / "after-revocation.tar")
    assert f"{ESIGNET}@1.8.0" in res.stderr and reason in res.stderr, res.describe()
    assert not (media / "after-revocation.tar").exists()
    # The site gets the signed revocation with the export it already had: SL's
    # statement, as the registry's sparse index serves it, added to the trust material.
    r = requests.get(w.reg.api("index/packages/mosip/esignet"), timeout=30)
    r.raise_for_status()
    served = next(v for v in r.json()["versions"] if v["version"] == "1.8.0")["approvals"]
    had = [a["envelope"] for a in esignet["approvals"]]
    revocations = [a for a in served if a["country"] == "SL" and a["envelope"] not in had]
    assert len(revocations) == 1, (served, had)
    trust = json.loads(json.dumps(e.trust))
    member_at(trust, ESIGNET)["approvals"] += revocations
    revoked_tar = e.with_trust(media / "national-id-2026.1-revoked.tar", trust)
    refused(w, target, revoked_tar, f"{ESIGNET}@1.8.0", reason, "--allow-revoked")

    res = offline(w, "pull", "--from", revoked_tar, "--into", target, "--allow-revoked")
    receipt = assert_pulled(w, target, ref, digest, FIRST, w.keys[:2])
    overrides = receipt["bundle"]["overrides"]
    assert len(overrides) == 1 and f"{ESIGNET}@1.8.0" in overrides[0] and reason in overrides[0], overrides
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".govstore-import-")]
    # The receipt's override stays: a rerun without the flag is refused, DIR untouched.
    from test_bundles import snapshot

    before = snapshot(target)
    res = offline(w, "pull", "--from", revoked_tar, "--into", target, check=False)
    assert res.returncode == 1 and reason in res.stderr, res.describe()
    assert snapshot(target) == before, "a refused pull changed DIR"
