"""govstore-server driven by the oras Python client (oras.client.OrasClient).

oras pushes blobs with POST + PUT (monolithic) or, with do_chunked, POST + PATCHes
carrying Content-Range + PUT; it uploads the manifest it builds with PUT. It has no
option for a manifest's artifactType, so ArtifactClient adds it just before the
manifest upload; everything else goes through oras' own code. The referrers API has no
oras-py call, so it is read with requests.
"""

from __future__ import annotations

import json
import os
import urllib.parse

import oras.client
import oras.oci
import pytest
import requests

from e2e_helpers import MIB, OCI_INDEX, OCI_MANIFEST, sha256_digest

ARTIFACT_MEDIA_TYPE = "application/vnd.govstore.test.v1+json"
ARTIFACT_CONFIG_TYPE = "application/vnd.govstore.test.config.v1+json"
ARTIFACT_TYPE = "application/vnd.govstore.test.artifact.v1"
SIGNATURE_TYPE = "application/vnd.govstore.test.signature.v1"
SIGNATURE_MEDIA_TYPE = "application/vnd.govstore.test.signature.v1+json"
SBOM_CONFIG_TYPE = "application/vnd.govstore.test.sbom.config.v1+json"
SBOM_MEDIA_TYPE = "application/spdx+json"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"

REPO = "govstore/test/artifact"


class ArtifactClient(oras.client.OrasClient):
    """OrasClient whose pushed manifests carry an artifactType; remembers the last PUT."""

    artifact_type: str | None = None
    last_manifest_bytes: bytes | None = None

    def upload_manifest(self, manifest, container):
        if self.artifact_type:
            manifest["artifactType"] = self.artifact_type
        response = super().upload_manifest(manifest, container)
        self.last_manifest_bytes = response.request.body
        return response


@pytest.fixture
def client(registry) -> ArtifactClient:
    return ArtifactClient(hostname=registry.host, insecure=True)


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def push_artifact(client: ArtifactClient, registry, tmp_path, tag: str, artifact_type: str | None, **kw):
    payload = json.dumps({"package": "govstore/test", "tag": tag, "nonce": os.urandom(8).hex()}).encode()
    f = write(tmp_path / f"payload-{tag}.json", payload)
    cfg = write(tmp_path / f"config-{tag}.json", json.dumps({"govstore": "e2e", "tag": tag}).encode())
    client.artifact_type = artifact_type
    response = client.push(
        target=f"{registry.host}/{REPO}:{tag}",
        files=[f"{f}:{ARTIFACT_MEDIA_TYPE}"],
        manifest_config=f"{cfg}:{ARTIFACT_CONFIG_TYPE}",
        manifest_annotations={"org.opencontainers.image.description": f"e2e {tag}"},
        disable_path_validation=True,
        quiet=True,
        **kw,
    )
    assert response.status_code == 201, f"manifest PUT answered {response.status_code}: {response.text[:500]}"
    manifest_bytes = client.last_manifest_bytes
    digest = sha256_digest(manifest_bytes)
    if "Docker-Content-Digest" in response.headers:
        assert response.headers["Docker-Content-Digest"] == digest
    return payload, manifest_bytes, digest, response


def get_manifest(registry, repo: str, ref: str) -> requests.Response:
    return requests.get(registry.v2(f"{repo}/manifests/{ref}"), headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"})


def test_push_pull_artifact(client, registry, tmp_path):
    payload, manifest_bytes, digest, _ = push_artifact(client, registry, tmp_path, "v1", ARTIFACT_TYPE)

    r = get_manifest(registry, REPO, "v1")
    assert r.status_code == 200, r.text
    assert r.content == manifest_bytes, "registry changed the manifest bytes"
    assert r.headers.get("Docker-Content-Digest") == digest
    assert r.headers.get("Content-Type") == OCI_MANIFEST

    manifest = client.get_manifest(f"{registry.host}/{REPO}:v1")
    assert manifest["artifactType"] == ARTIFACT_TYPE
    assert manifest["config"]["mediaType"] == ARTIFACT_CONFIG_TYPE
    assert [l["mediaType"] for l in manifest["layers"]] == [ARTIFACT_MEDIA_TYPE]
    assert manifest["layers"][0]["digest"] == sha256_digest(payload)

    out = tmp_path / "pulled"
    files = client.pull(target=f"{registry.host}/{REPO}:v1", outdir=str(out))
    assert len(files) == 1
    with open(files[0], "rb") as fh:
        assert fh.read() == payload

    # Pull by digest too.
    out2 = tmp_path / "pulled-by-digest"
    files = client.pull(target=f"{registry.host}/{REPO}@{digest}", outdir=str(out2))
    with open(files[0], "rb") as fh:
        assert fh.read() == payload


def test_chunked_push(client, registry, tmp_path):
    """oras' chunked upload: several PATCHes with Content-Range, then PUT ?digest=."""
    big = os.urandom(5 * MIB + 12345)
    f = write(tmp_path / "big.bin", big)
    client.artifact_type = ARTIFACT_TYPE
    response = client.push(
        target=f"{registry.host}/{REPO}:chunked",
        files=[f"{f}:application/octet-stream"],
        disable_path_validation=True,
        do_chunked=True,
        chunk_size=1 * MIB,
        quiet=True,
    )
    assert response.status_code == 201, response.text
    r = requests.get(registry.v2(f"{REPO}/blobs/{sha256_digest(big)}"))
    assert r.status_code == 200 and r.content == big
    files = client.pull(target=f"{registry.host}/{REPO}:chunked", outdir=str(tmp_path / "out"))
    with open(files[0], "rb") as fh:
        assert fh.read() == big


def test_tags_and_pagination(client, registry, tmp_path):
    tags = ["v1.0.0", "v1.1.0", "v1.10.0", "v1.2.0", "v2.0.0"]
    for tag in tags:
        push_artifact(client, registry, tmp_path, tag, ARTIFACT_TYPE)

    listed = client.get_tags(f"{registry.host}/{REPO}")
    if registry.is_reference:  # distribution 2.8 does not sort unpaginated lists
        listed = sorted(listed)
    assert listed == sorted(tags)

    if registry.is_reference:
        return  # distribution 2.8 ignores n= on tag lists

    # Walk the pages the way the spec says clients must: follow Link until it is gone.
    url = registry.v2(f"{REPO}/tags/list?n=2")
    pages = []
    for _ in range(10):
        r = requests.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["name"] == REPO
        pages.append(body["tags"])
        link = r.headers.get("Link")
        if not link:
            break
        assert 'rel="next"' in link, link
        target = link.split(";")[0].strip().strip("<>")
        url = urllib.parse.urljoin(registry.url, target)
    assert pages == [sorted(tags)[0:2], sorted(tags)[2:4], sorted(tags)[4:]], pages

    r = requests.get(registry.v2(f"{REPO}/tags/list?n=2&last=v1.1.0"))
    assert r.json()["tags"] == ["v1.10.0", "v1.2.0"]


def test_delete_tag_with_oras(registry_factory, tmp_path):
    registry = registry_factory(anonymous_push=True, allow_delete=True)
    client = ArtifactClient(hostname=registry.host, insecure=True)
    push_artifact(client, registry, tmp_path, "gone", ARTIFACT_TYPE)
    push_artifact(client, registry, tmp_path, "stays", ARTIFACT_TYPE)
    assert client.delete_tags(f"{registry.host}/{REPO}", "gone") == ["gone"]
    assert get_manifest(registry, REPO, "gone").status_code == 404
    assert client.get_tags(f"{registry.host}/{REPO}") == ["stays"]


def referrers(registry, repo: str, digest: str, artifact_type: str | None = None) -> requests.Response:
    url = registry.v2(f"{repo}/referrers/{digest}")
    params = {"artifactType": artifact_type} if artifact_type else None
    return requests.get(url, params=params)


def test_referrers(client, registry, tmp_path):
    if registry.is_reference:
        pytest.skip("distribution 2.8 has no referrers API")

    # The subject: an artifact pushed with oras.
    _, subject_bytes, subject_digest, _ = push_artifact(client, registry, tmp_path, "v1", ARTIFACT_TYPE)
    subject = oras.oci.Subject(mediaType=OCI_MANIFEST, digest=subject_digest, size=len(subject_bytes))

    # A signature with artifactType and subject, pushed by oras (tagged, like cosign's layout).
    sig_file = write(tmp_path / "sig.json", json.dumps({"signed": subject_digest}).encode())
    client.artifact_type = SIGNATURE_TYPE
    response = client.push(
        target=f"{registry.host}/{REPO}:sha256-{subject_digest.split(':')[1]}.sig",
        files=[f"{sig_file}:{SIGNATURE_MEDIA_TYPE}"],
        manifest_annotations={"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
        subject=subject,
        disable_path_validation=True,
        quiet=True,
    )
    assert response.status_code == 201, response.text
    assert response.headers.get("OCI-Subject") == subject_digest, (
        f"manifest PUT with a subject must answer OCI-Subject; headers: {dict(response.headers)}"
    )
    sig_bytes = client.last_manifest_bytes
    sig_digest = sha256_digest(sig_bytes)
    sig_manifest = json.loads(sig_bytes)
    assert sig_manifest["subject"]["digest"] == subject_digest

    # An untagged SBOM without artifactType, PUT by digest: its artifact type is its
    # config's media type. Blobs go up through oras, the manifest is built by hand.
    sbom = write(tmp_path / "sbom.spdx.json", json.dumps({"spdxVersion": "SPDX-2.3", "n": os.urandom(4).hex()}).encode())
    sbom_cfg = write(tmp_path / "sbom-config.json", b'{"tool":"e2e"}')
    container = client.get_container(f"{registry.host}/{REPO}")
    layer = oras.oci.NewLayer(str(sbom), media_type=SBOM_MEDIA_TYPE)
    config = oras.oci.NewLayer(str(sbom_cfg), media_type=SBOM_CONFIG_TYPE)
    for path, desc in ((sbom, layer), (sbom_cfg, config)):
        r = client.upload_blob(str(path), container, desc)
        assert r.status_code in (200, 201), r.text
    sbom_manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": [layer],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject_digest, "size": len(subject_bytes)},
        "annotations": {"org.opencontainers.image.description": "sbom"},
    }
    sbom_bytes = json.dumps(sbom_manifest, indent=1).encode()
    sbom_digest = sha256_digest(sbom_bytes)
    r = requests.put(
        registry.v2(f"{REPO}/manifests/{sbom_digest}"), data=sbom_bytes, headers={"Content-Type": OCI_MANIFEST}
    )
    assert r.status_code == 201, f"PUT manifest by digest: {r.status_code} {r.text[:500]}"
    assert r.headers.get("OCI-Subject") == subject_digest, dict(r.headers)
    assert r.headers.get("Docker-Content-Digest", sbom_digest) == sbom_digest

    # All referrers.
    r = referrers(registry, REPO, subject_digest)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type") == OCI_INDEX
    index = r.json()
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == OCI_INDEX
    by_digest = {d["digest"]: d for d in index["manifests"]}
    assert set(by_digest) == {sig_digest, sbom_digest}, index
    sig = by_digest[sig_digest]
    assert sig["mediaType"] == OCI_MANIFEST
    assert sig["size"] == len(sig_bytes)
    assert sig["artifactType"] == SIGNATURE_TYPE
    assert sig.get("annotations") == sig_manifest["annotations"]
    sb = by_digest[sbom_digest]
    assert sb["size"] == len(sbom_bytes)
    assert sb["artifactType"] == SBOM_CONFIG_TYPE, "without artifactType, the config media type is the artifact type"
    assert sb.get("annotations") == {"org.opencontainers.image.description": "sbom"}

    # Filtered.
    r = referrers(registry, REPO, subject_digest, SIGNATURE_TYPE)
    assert r.status_code == 200, r.text
    assert r.headers.get("OCI-Filters-Applied") == "artifactType", dict(r.headers)
    assert [d["digest"] for d in r.json()["manifests"]] == [sig_digest]

    r = referrers(registry, REPO, subject_digest, SBOM_CONFIG_TYPE)
    assert r.headers.get("OCI-Filters-Applied") == "artifactType"
    assert [d["digest"] for d in r.json()["manifests"]] == [sbom_digest]

    r = referrers(registry, REPO, subject_digest, "application/vnd.govstore.nothing")
    assert r.status_code == 200
    assert r.headers.get("OCI-Filters-Applied") == "artifactType"
    assert r.json()["manifests"] == []

    # Unfiltered responses must not claim a filter.
    assert "OCI-Filters-Applied" not in referrers(registry, REPO, subject_digest).headers

    # A digest nothing refers to: an empty index, never 404.
    r = referrers(registry, REPO, sig_digest)
    assert r.status_code == 200, r.text
    assert r.json()["manifests"] == []

    # Referrers are per repository.
    r = referrers(registry, "govstore/test/elsewhere", subject_digest)
    assert r.status_code in (200, 404)
    if r.status_code == 200:
        assert r.json()["manifests"] == []


def test_referrers_of_a_deleted_referrer(registry_factory, tmp_path):
    registry = registry_factory(anonymous_push=True, allow_delete=True)
    if registry.is_reference:
        pytest.skip("distribution 2.8 has no referrers API")
    client = ArtifactClient(hostname=registry.host, insecure=True)
    _, subject_bytes, subject_digest, _ = push_artifact(client, registry, tmp_path, "v1", ARTIFACT_TYPE)
    subject = oras.oci.Subject(mediaType=OCI_MANIFEST, digest=subject_digest, size=len(subject_bytes))
    _, _, sig_digest, response = push_artifact(
        client, registry, tmp_path, "attestation", SIGNATURE_TYPE, subject=subject
    )
    assert response.headers.get("OCI-Subject") == subject_digest
    assert [d["digest"] for d in referrers(registry, REPO, subject_digest).json()["manifests"]] == [sig_digest]

    r = requests.delete(registry.v2(f"{REPO}/manifests/{sig_digest}"))
    assert r.status_code == 202, f"{r.status_code} {r.text[:300]}"
    r = referrers(registry, REPO, subject_digest)
    assert r.status_code == 200
    assert r.json()["manifests"] == [], "a deleted manifest is still listed as a referrer"
