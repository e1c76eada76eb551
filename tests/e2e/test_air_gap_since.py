"""Differential and zstd air-gap exports end to end.

`govstore export REF --since 2026.1` writes only what the export of 2026.1 lacks: the new
bundle index, its signatures and the trust material in full, every member's signatures,
but only the member manifests, configs and layers 2026.1's members do not have. Its
index.json still names everything and records the base (version and bundle index
digest); `pull --from NEW --base OLD` verifies OLD in full, takes each missing blob from
it re-hashed, and installs only what changed. Without the base, with another bundle's
export or a tampered one, it is refused and nothing is written.

`--zstd` compresses the tar (FILE.zst), `--split` then splits the compressed stream;
readers detect zstd by its magic bytes.

The world (SL with 2 of 3 approvers, the packages of test_bundles) and the helpers are
test_air_gap's and test_bundles'.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from e2e_helpers import sha256_digest
from test_air_gap import Export, closed_port_url, offline, refused, signed_bundle
from test_bundles import BUNDLE, ESIGNET, FIRST, RAPIDPRO, SECOND, XROAD, World, assert_pulled, make_world, snapshot

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def second_bundle(w: World) -> tuple[str, str]:
    """SL/national-id@2026.2: RapidPro 9.0.1 instead of 9.0.0, signed by approvers 0, 2."""
    ref = f"{BUNDLE}@2026.2"
    w.approve({RAPIDPRO: "9.0.1"}, approvers=(1, 2))
    w.create(0, ref, w.lock("2026.2", SECOND))
    return ref, w.sign(2, ref)["digest"]


def member_closure(e: Export, bundle_digest: str) -> dict[str, set[str]]:
    """Per member (manifest digest) of the bundle index in E: its manifest, config and
    layer digests."""
    out = {}
    for m in json.loads(e.blob(bundle_digest))["manifests"]:
        manifest = json.loads(e.blob(m["digest"]))
        out[m["digest"]] = {m["digest"], manifest["config"]["digest"], *(x["digest"] for x in manifest["layers"])}
    return out


def blob_digests(e: Export) -> set[str]:
    return {"sha256:" + n.removeprefix("blobs/sha256/") for n in e.files if n.startswith("blobs/sha256/")}


def pull_fails(w: World, into: Path, *args: object) -> str:
    """`pull --from ...` into INTO (which holds an install) is refused and INTO is untouched."""
    before = snapshot(into)
    res = offline(w, "pull", *args, "--into", into, check=False)
    assert res.returncode == 1 and "error: " in res.stderr, res.describe()
    assert snapshot(into) == before, "a refused pull changed DIR\n" + res.describe()
    assert not [p for p in into.parent.iterdir() if p.name.startswith(".govstore-import-")]
    return res.stderr


def test_a_differential_export_holds_only_what_changed_and_needs_its_base(signed_registry, govstore, tmp_path):
    w = make_world(signed_registry, govstore, tmp_path)
    ref1, digest1 = signed_bundle(w)
    media = tmp_path / "media"
    media.mkdir()
    old = media / "national-id-2026.1.tar"
    w.op("export", ref1, "-o", old)
    ref2, digest2 = second_bundle(w)
    full2 = media / "national-id-2026.2-full.tar"
    w.op("export", ref2, "-o", full2)

    # The differential export: the base named in index.json, only the upgraded member's
    # manifest, config and layers, every signature still there.
    new = media / "national-id-2026.2.tar"
    made = w.op_json("export", ref2, "--since", "2026.1", "-o", new)
    assert made["since"] == ref1 and made["base_digest"] == digest1 and made["omitted_blobs"] > 0, made
    assert made["archive_digest"] == sha256_digest(new.read_bytes()), made
    again = media / "again.tar"
    w.op("export", ref2, "--since", "2026.1", "-o", again)
    assert sha256_digest(again.read_bytes()) == sha256_digest(new.read_bytes()), "two differential exports differ"

    e_new, e_full2, e_old = Export(new), Export(full2), Export(old)
    ann = e_new.index["annotations"]
    assert ann["dev.govstore.export.since"] == "2026.1" and ann["dev.govstore.export.base"] == digest1, ann
    assert ann["dev.govstore.export.base.reference"] == ref1, ann
    assert [d["digest"] for d in e_new.index["manifests"]] == [d["digest"] for d in e_full2.index["manifests"]]
    held = blob_digests(e_new)
    old_members = set().union(*member_closure(e_old, digest1).values())
    new_members = member_closure(e_full2, digest2)
    upgraded = [c for c in new_members.values() if not c <= old_members]
    # (a layer RapidPro 9.0.1 shares with 9.0.0 comes from the base too)
    assert len(upgraded) == 1 and upgraded[0] - old_members <= held, (upgraded, held)
    for closure in new_members.values():
        if closure <= old_members:
            assert not closure & held, "an unchanged member's blobs are in the differential export"
    assert held == blob_digests(e_full2) - old_members, "it holds exactly what the base lacks"
    for d in e_new.index["manifests"]:  # every signature, attestation, approval, the trust material
        assert d["digest"] in held, d
    old_bytes = sum(len(b) for n, b in e_full2.files.items() if "sha256:" + n.removeprefix("blobs/sha256/") in old_members)
    # Smaller by at least the unchanged content (and its tar headers). The catalogue's
    # packages are small, so here the signatures and trust material, always in full,
    # are most of what remains.
    assert new.stat().st_size <= full2.stat().st_size - old_bytes, (new.stat().st_size, full2.stat().st_size)
    assert made["omitted_bytes"] == old_bytes, (made, old_bytes)

    # The site has 2026.1 (from its export); 2026.2 arrives as the differential export.
    into = tmp_path / "site" / "national-id"
    into.parent.mkdir()
    offline(w, "pull", "--from", old, "--into", into)
    assert_pulled(w, into, ref1, digest1, FIRST, w.keys[:2])

    # Without the base: refused, naming the base it needs, nothing written.
    err = pull_fails(w, into, "--from", new)
    assert ref1 in err and digest1 in err and "--base" in err, err
    # With another bundle's export as the base.
    w.create(0, f"{BUNDLE}-health@2026.1", w.lock("health", FIRST))
    w.sign(1, f"{BUNDLE}-health@2026.1")
    other = media / "health-2026.1.tar"
    w.op("export", f"{BUNDLE}-health@2026.1", "-o", other)
    err = pull_fails(w, into, "--from", new, "--base", other)
    assert "not the one this differential export needs" in err and ref1 in err, err
    # With the full export of 2026.2 as a base, and a full export given a base.
    err = pull_fails(w, into, "--from", new, "--base", full2)
    assert "not the one this differential export needs" in err, err
    err = pull_fails(w, into, "--from", full2, "--base", old)
    assert "needs none" in err, err
    # A tampered base: a flipped byte in an unchanged member's layer.
    layer = json.loads(e_old.blob(json.loads(e_old.blob(digest1))["manifests"][0]["digest"]))["layers"][0]["digest"]
    with tarfile.open(old) as t:
        info = t.getmember("blobs/sha256/" + layer.removeprefix("sha256:"))
    flipped = bytearray(old.read_bytes())
    flipped[info.offset_data + info.size // 2] ^= 1
    bad = tmp_path / "bad-base.tar"
    bad.write_bytes(bytes(flipped))
    err = pull_fails(w, into, "--from", new, "--base", bad)
    assert "the base export" in err and layer in err and "does not match its digest" in err, err
    # A differential export as the base.
    err = pull_fails(w, into, "--from", new, "--base", new)
    assert "the base export" in err and "differential" in err, err

    # With its base: only RapidPro is installed, the others are left alone.
    kept = {n: snapshot(into / n) for n in (ESIGNET, XROAD)}
    res = offline(w, "pull", "--from", new, "--base", old, "--into", into, json_out=True).json()
    assert res["install"]["installed"] == [f"{RAPIDPRO}@9.0.1"], res
    assert sorted(res["install"]["unchanged"]) == sorted([f"{ESIGNET}@1.8.0", f"{XROAD}@7.8.0"]), res
    d = res["verified"]["archive"]["differential"]
    assert d["since"] == "2026.1" and d["base"] == digest1 and d["from_base_blobs"] == made["omitted_blobs"], d
    assert {n: snapshot(into / n) for n in kept} == kept, "unchanged members were rewritten"
    assert_pulled(w, into, ref2, digest2, SECOND, [w.keys[0], w.keys[2]])
    text = offline(w, "pull", "--from", new, "--base", old, "--into", into).text
    assert "up to date" in text and "taken from the base export, re-hashed" in text, text

    # Both compressed, the new one split: the same install.
    w.op("export", ref1, "-o", media / "old.tar", "--zstd")
    (media / "split").mkdir()
    w.op("export", ref2, "--since", "2026.1", "-o", media / "split" / "new.tar", "--zstd", "--split", "4K")
    fresh = tmp_path / "site" / "fresh"
    offline(w, "pull", "--from", media / "split" / "new.tar.zst.parts.json", "--base", media / "old.tar.zst",
            "--into", fresh)
    assert_pulled(w, fresh, ref2, digest2, SECOND, [w.keys[0], w.keys[2]])

    # import verifies the pair offline before it contacts any registry.
    env = {"GOVSTORE_TRUST_FILE": str(w.trust_file), "GOVSTORE_TOKEN": "gvs_unused"}
    res = w.operator.run("import", new, registry=closed_port_url(), env=env, check=False)
    assert res.returncode == 1 and ref1 in res.stderr and "--base" in res.stderr, res.describe()
    res = w.operator.run("import", new, "--base", bad, registry=closed_port_url(), env=env,
                         check=False)
    assert res.returncode == 1 and "the base export" in res.stderr, res.describe()
    res = w.operator.run("import", new, "--base", old, registry=closed_port_url(), env=env,
                         check=False)
    assert res.returncode == 1 and f"import of {ref2} stopped" in res.stderr, res.describe()


def test_zstd_exports_pull_the_same_and_a_flipped_byte_is_refused(signed_registry, govstore, tmp_path):
    w = make_world(signed_registry, govstore, tmp_path)
    ref, digest = signed_bundle(w)
    media = tmp_path / "media"
    media.mkdir()
    tar = media / "national-id-2026.1.tar"
    w.op("export", ref, "-o", tar)

    made = w.op_json("export", ref, "-o", media / "z.tar", "--zstd")
    zst = media / "z.tar.zst"
    assert made["output"] == str(zst) and made["compression"] == "zstd", made
    assert not (media / "z.tar").exists()
    data = zst.read_bytes()
    assert data[:4] == ZSTD_MAGIC and len(data) < tar.stat().st_size, (len(data), tar.stat().st_size)
    assert made["file_digest"] == sha256_digest(data) and made["file_bytes"] == len(data), made
    assert made["archive_digest"] == sha256_digest(tar.read_bytes()), "the tar inside is the plain export"
    w.op("export", ref, "-o", media / "z2.tar.zst", "--zstd")
    assert sha256_digest((media / "z2.tar.zst").read_bytes()) == sha256_digest(data), "two zstd exports differ"

    into = tmp_path / "site" / "zstd"
    into.parent.mkdir()
    out = offline(w, "pull", "--from", zst, "--into", into, json_out=True).json()
    assert out["verified"]["archive"]["zstd"] is True, out["verified"]["archive"]
    assert_pulled(w, into, ref, digest, FIRST, w.keys[:2])

    # --zstd --split: the compressed stream in parts.
    split = media / "split"
    split.mkdir()
    size = len(data) // 3 + 1
    w.op("export", ref, "-o", split / "n.tar", "--zstd", "--split", str(size))
    parts = json.loads((split / "n.tar.zst.parts.json").read_text())
    assert len(parts["parts"]) == 3 and parts["sha256"] == sha256_digest(data).removeprefix("sha256:"), parts
    into2 = tmp_path / "site" / "zstd-parts"
    offline(w, "pull", "--from", split / "n.tar.zst.parts.json", "--into", into2)
    assert_pulled(w, into2, ref, digest, FIRST, w.keys[:2])

    # A flipped byte anywhere in the compressed file: refused cleanly, nothing written.
    for at in (len(data) // 3, len(data) // 2, len(data) - 3):
        flipped = bytearray(data)
        flipped[at] ^= 0x20
        bad = tmp_path / f"flipped-{at}.tar.zst"
        bad.write_bytes(bytes(flipped))
        err = refused(w, tmp_path / "site" / "bad", bad)
        assert "damaged" in err or "does not match" in err, err
        assert "panick" not in err, err
