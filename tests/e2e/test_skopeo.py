"""govstore-server driven by skopeo (containers/image), a real OCI client.

skopeo pushes a blob as POST /blobs/uploads/, one streamed PATCH (HTTP chunked
transfer encoding, no Content-Length), then PUT ?digest=; it checks blobs with HEAD
first, and tries cross-repository mounts for blobs it has seen elsewhere on the same
registry.
"""

from __future__ import annotations

import json

import pytest
import requests

from e2e_helpers import (
    DOCKER_MANIFEST,
    MIB,
    OCI_INDEX,
    OCI_MANIFEST,
    Layout,
    Skopeo,
    make_image,
    sha256_digest,
)

REPO = "govstore/test/image"
# Small, medium and a few MiB (so the upload streams in many HTTP chunks).
LAYER_SIZES = [2 * 1024, 300 * 1024, 5 * MIB]

MANIFEST_ACCEPT = ", ".join(
    [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json"]
)


@pytest.fixture
def skopeo(tmp_path) -> Skopeo:
    return Skopeo(tmp_path / "skopeo")


def docker_ref(registry, repo: str, tag_or_digest: str) -> str:
    sep = "@" if tag_or_digest.startswith("sha256:") else ":"
    return f"docker://{registry.host}/{repo}{sep}{tag_or_digest}"


def layout_with(tmp_path, name: str, images: dict) -> Layout:
    layout = Layout.create(tmp_path / name)
    for tag, image in images.items():
        layout.add_image(tag, image)
    return layout


def push(skopeo: Skopeo, layout: Layout, tag: str, registry, repo: str, dest_tag: str | None = None, **kw):
    return skopeo.copy(
        f"oci:{layout.path}:{tag}", docker_ref(registry, repo, dest_tag or tag), "--preserve-digests", **kw
    )


def assert_registry_serves(registry, repo: str, image) -> None:
    """Check with plain HTTP what the registry stores: exact manifest bytes and blobs."""
    r = requests.head(registry.v2(f"{repo}/manifests/{image.digest}"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.status_code == 200, f"HEAD manifest by digest: {r.status_code} {r.headers}"
    assert r.headers.get("Docker-Content-Digest") == image.digest
    assert int(r.headers.get("Content-Length", -1)) == len(image.manifest)

    r = requests.get(registry.v2(f"{repo}/manifests/{image.digest}"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.status_code == 200, r.text
    assert r.content == image.manifest, "manifest bytes changed by the registry"
    assert r.headers.get("Content-Type") == image.media_type

    for digest, data in image.blobs().items():
        r = requests.head(registry.v2(f"{repo}/blobs/{digest}"))
        assert r.status_code == 200, f"HEAD blob {digest}: {r.status_code}"
        assert int(r.headers.get("Content-Length", -1)) == len(data)
        assert r.headers.get("Docker-Content-Digest") == digest
        r = requests.get(registry.v2(f"{repo}/blobs/{digest}"))
        assert r.status_code == 200, f"GET blob {digest}: {r.status_code} {r.text[:300]}"
        assert len(r.content) == len(data) and r.content == data, f"blob {digest} differs"


def test_copy_roundtrip_byte_identical(registry, skopeo, tmp_path):
    image = make_image(LAYER_SIZES, label="roundtrip")
    src = layout_with(tmp_path, "src", {"v1": image})

    push(skopeo, src, "v1", registry, REPO)

    # The tag resolves to exactly the pushed manifest.
    r = requests.get(registry.v2(f"{REPO}/manifests/v1"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.status_code == 200, r.text
    assert r.content == image.manifest
    assert r.headers.get("Docker-Content-Digest") == image.digest
    assert r.headers.get("Content-Type") == OCI_MANIFEST
    assert_registry_serves(registry, REPO, image)

    # Pull it back by tag with skopeo: manifest and every blob byte-identical.
    out = Layout(tmp_path / "out")
    skopeo.copy(docker_ref(registry, REPO, "v1"), f"oci:{out.path}:v1", "--preserve-digests")
    ref = out.ref("v1")
    assert ref["digest"] == image.digest
    assert ref["mediaType"] == OCI_MANIFEST
    assert out.read_blob(image.digest) == image.manifest
    for digest, data in image.blobs().items():
        assert out.has_blob(digest), f"blob {digest} missing from pulled layout"
        assert out.read_blob(digest) == data, f"blob {digest} differs after round trip"

    # And by digest.
    out2 = Layout(tmp_path / "out-by-digest")
    skopeo.copy(docker_ref(registry, REPO, image.digest), f"oci:{out2.path}:pinned", "--preserve-digests")
    assert out2.ref("pinned")["digest"] == image.digest
    for digest, data in image.blobs().items():
        assert out2.read_blob(digest) == data


def test_second_push_of_same_image_is_accepted(registry, skopeo, tmp_path):
    """Re-pushing existing content (blobs already present, manifest identical) succeeds."""
    image = make_image([1024, 64 * 1024], label="repush")
    src = layout_with(tmp_path, "src", {"v1": image})
    push(skopeo, src, "v1", registry, REPO)
    res = push(skopeo, src, "v1", registry, REPO, debug=True)
    # containers/image logs that it skips blobs the registry already has.
    assert "already present" in res.stderr or "Skipping blob" in res.stderr or "skipped" in res.stderr.lower(), (
        "skopeo re-uploaded blobs the registry should have reported as present\n" + res.describe()
    )
    assert_registry_serves(registry, REPO, image)


def test_inspect(registry, skopeo, tmp_path):
    image = make_image(LAYER_SIZES[:2], label="inspect")
    src = layout_with(tmp_path, "src", {"v1": image})
    push(skopeo, src, "v1", registry, REPO)
    ref = docker_ref(registry, REPO, "v1")

    raw = skopeo.remote("inspect", ref, "--raw").stdout
    assert raw.rstrip(b"\n") == image.manifest.rstrip(b"\n")

    raw_config = skopeo.remote("inspect", ref, "--config", "--raw").stdout
    assert raw_config.rstrip(b"\n") == image.config

    info = skopeo.remote("inspect", ref).json()
    assert info["Digest"] == image.digest
    assert info["Layers"] == image.layer_digests
    assert info["Architecture"] == "amd64"
    assert info["Os"] == "linux"
    assert info["Name"] == f"{registry.host}/{REPO}"
    assert "v1" in info["RepoTags"]
    assert info["Labels"] == {"test": "inspect"}
    if "LayersData" in info:  # newer skopeo only
        assert [(l["Digest"], l["Size"]) for l in info["LayersData"]] == [
            (sha256_digest(b), len(b)) for b in image.layers
        ]


def test_list_tags_sorted(registry, skopeo, tmp_path):
    a = make_image([1024], label="tags-a")
    b = make_image([2048], label="tags-b")
    src = layout_with(tmp_path, "src", {"a": a, "b": b})
    tags = {"v1": "a", "1.10.0": "a", "1.2.0": "b", "latest": "b", "rc-1": "a", "0.9.0": "b"}
    for tag, source in tags.items():
        push(skopeo, src, source, registry, REPO, dest_tag=tag)

    listing = skopeo.remote("list-tags", f"docker://{registry.host}/{REPO}").json()
    assert listing["Repository"] == f"{registry.host}/{REPO}"
    if registry.is_reference:  # distribution 2.8 lists unpaginated tags in storage order
        assert sorted(listing["Tags"]) == sorted(tags)
    else:
        assert listing["Tags"] == sorted(tags), "tags must be listed once each, in lexical order"

    for tag, source in tags.items():
        want = (a if source == "a" else b).digest
        r = requests.head(registry.v2(f"{REPO}/manifests/{tag}"), headers={"Accept": MANIFEST_ACCEPT})
        assert r.headers.get("Docker-Content-Digest") == want, f"tag {tag}"

    # A tag moves when pushed again with different content.
    push(skopeo, src, "b", registry, REPO, dest_tag="v1")
    r = requests.head(registry.v2(f"{REPO}/manifests/v1"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.headers.get("Docker-Content-Digest") == b.digest
    listing = skopeo.remote("list-tags", f"docker://{registry.host}/{REPO}").json()
    assert sorted(listing["Tags"]) == sorted(tags)


def test_delete(registry_factory, skopeo, tmp_path):
    registry = registry_factory(anonymous_push=True, allow_delete=True)
    doomed = make_image([4096, 128 * 1024], label="doomed")
    keep = make_image([8192], label="keep")
    src = layout_with(tmp_path, "src", {"doomed": doomed, "keep": keep})
    push(skopeo, src, "doomed", registry, REPO)
    push(skopeo, src, "keep", registry, REPO)

    res = skopeo.remote("delete", docker_ref(registry, REPO, "doomed"), check=False, debug=True)
    assert res.returncode == 0, res.describe()

    r = requests.get(registry.v2(f"{REPO}/manifests/doomed"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.status_code == 404, f"deleted tag still answers {r.status_code}: {r.text[:300]}"
    codes = [e.get("code") for e in r.json().get("errors", [])]
    assert "MANIFEST_UNKNOWN" in codes, r.text
    r = requests.get(registry.v2(f"{REPO}/manifests/{doomed.digest}"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.status_code == 404, f"deleted manifest still answers {r.status_code} by digest"

    res = skopeo.remote("inspect", docker_ref(registry, REPO, "doomed"), "--raw", check=False)
    assert res.returncode != 0, "skopeo inspect of a deleted tag succeeded\n" + res.describe()

    assert skopeo.remote("list-tags", f"docker://{registry.host}/{REPO}").json()["Tags"] == ["keep"]
    assert_registry_serves(registry, REPO, keep)

    # Deleting again: the manifest is unknown now.
    r = requests.delete(registry.v2(f"{REPO}/manifests/{doomed.digest}"))
    assert r.status_code == 404, f"second delete answered {r.status_code}: {r.text[:300]}"


def test_delete_refused_without_allow_delete(registry, skopeo, tmp_path):
    image = make_image([4096], label="undeletable")
    src = layout_with(tmp_path, "src", {"v1": image})
    push(skopeo, src, "v1", registry, REPO)

    res = skopeo.remote("delete", docker_ref(registry, REPO, "v1"), check=False)
    assert res.returncode != 0, "delete succeeded on a server started without --allow-delete\n" + res.describe()
    r = requests.delete(registry.v2(f"{REPO}/manifests/{image.digest}"))
    assert r.status_code == 405, f"DELETE without --allow-delete: {r.status_code} {r.text[:300]}"
    assert_registry_serves(registry, REPO, image)


def test_multi_arch_index_roundtrip(registry, skopeo, tmp_path):
    amd64 = make_image([1024, 256 * 1024], arch="amd64", label="multi-amd64")
    arm64 = make_image([1024, 200 * 1024], arch="arm64", label="multi-arm64")
    src = Layout.create(tmp_path / "src")
    index = src.add_index("v1", {"amd64": amd64, "arm64": arm64})

    skopeo.copy(f"oci:{src.path}:v1", docker_ref(registry, "govstore/test/multi", "v1"), "--all", "--preserve-digests")

    r = requests.get(registry.v2("govstore/test/multi/manifests/v1"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.status_code == 200, r.text
    assert r.content == index
    assert r.headers.get("Content-Type") == OCI_INDEX
    assert r.headers.get("Docker-Content-Digest") == sha256_digest(index)
    for img in (amd64, arm64):
        assert_registry_serves(registry, "govstore/test/multi", img)

    out = Layout(tmp_path / "out")
    skopeo.copy(docker_ref(registry, "govstore/test/multi", "v1"), f"oci:{out.path}:v1", "--all", "--preserve-digests")
    assert out.ref("v1")["digest"] == sha256_digest(index)
    assert out.read_blob(sha256_digest(index)) == index
    for img in (amd64, arm64):
        assert out.read_blob(img.digest) == img.manifest
        for digest, data in img.blobs().items():
            assert out.read_blob(digest) == data


def test_copy_between_repositories(registry, skopeo, tmp_path):
    """Registry-to-registry copy: skopeo may mount blobs from the source repository."""
    image = make_image([1024, 512 * 1024], label="mount")
    src = layout_with(tmp_path, "src", {"v1": image})
    push(skopeo, src, "v1", registry, "govstore/test/source")

    res = skopeo.copy(
        docker_ref(registry, "govstore/test/source", "v1"),
        docker_ref(registry, "govstore/other/target", "v1"),
        "--preserve-digests",
        debug=True,
    )
    assert_registry_serves(registry, "govstore/other/target", image)
    # containers/image remembers where it pulled each layer from (blob info cache) and
    # asks POST /v2/<target>/blobs/uploads/?mount=<digest>&from=<source>; a 201 is
    # logged as "... mount OK", anything else makes it fall back to an upload.
    tried = [l for l in res.stderr.splitlines() if "Trying to mount" in l]
    mounted = [l for l in res.stderr.splitlines() if "mount OK" in l]
    for digest in image.layer_digests:
        assert any(digest.replace(":", "%3A") in l for l in tried), (
            f"skopeo did not try to mount layer {digest}\n" + res.describe()
        )
    assert len(mounted) == len(tried), (
        f"{len(tried)} cross-repository mounts tried, {len(mounted)} answered 201\n" + res.describe()
    )


def test_docker_schema2_push(registry, skopeo, tmp_path):
    """skopeo converts to a Docker schema 2 manifest; the registry must store that type too."""
    image = make_image([1024, 64 * 1024], label="docker")
    src = layout_with(tmp_path, "src", {"v1": image})
    skopeo.copy(f"oci:{src.path}:v1", docker_ref(registry, "govstore/test/docker", "v1"), "--format", "v2s2")

    r = requests.get(registry.v2("govstore/test/docker/manifests/v1"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type") == DOCKER_MANIFEST
    manifest = json.loads(r.content)
    assert manifest["mediaType"] == DOCKER_MANIFEST
    assert r.headers.get("Docker-Content-Digest") == sha256_digest(r.content)
    assert [l["digest"] for l in manifest["layers"]] == image.layer_digests

    out = tmp_path / "out-dir"
    skopeo.copy(docker_ref(registry, "govstore/test/docker", "v1"), f"dir:{out}", "--preserve-digests")
    assert (out / "manifest.json").read_bytes() == r.content
    for digest, data in zip(image.layer_digests, image.layers):
        assert (out / digest.split(":", 1)[1]).read_bytes() == data


def test_push_refused_without_anonymous_push(registry_factory, skopeo, tmp_path):
    registry = registry_factory(anonymous_push=False, allow_delete=False)
    image = make_image([1024], label="refused")
    src = layout_with(tmp_path, "src", {"v1": image})

    res = push(skopeo, src, "v1", registry, REPO, check=False)
    assert res.returncode != 0, "anonymous push was accepted\n" + res.describe()

    r = requests.post(registry.v2(f"{REPO}/blobs/uploads/"))
    assert r.status_code == 401, f"anonymous POST upload: {r.status_code} {r.text[:300]}"
    assert "WWW-Authenticate" in r.headers, "a 401 must carry WWW-Authenticate"
    codes = [e.get("code") for e in r.json().get("errors", [])]
    assert "UNAUTHORIZED" in codes, r.text

    r = requests.get(registry.v2(f"{REPO}/manifests/v1"), headers={"Accept": MANIFEST_ACCEPT})
    assert r.status_code == 404, r.status_code
    for digest in image.blobs():
        assert requests.head(registry.v2(f"{REPO}/blobs/{digest}")).status_code == 404
