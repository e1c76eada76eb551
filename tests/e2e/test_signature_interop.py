"""The publisher's signature, checked by an implementation that is not ours.

After `govstore publish`, everything a cosign-family verifier needs is fetched over
plain HTTP (the cosign-layout `sha256-<hex>.sig` manifest, its simple-signing payload
blob, the base64 signature annotation, the namespace's public key from the JSON API)
and checked with the Python `cryptography` package: ECDSA P-256 with SHA-256 over the
payload bytes, and the payload names the package manifest's digest.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from e2e_helpers import (
    COSIGN_SIGNATURE_ANNOTATION,
    OCI_MANIFEST,
    SIMPLE_SIGNING_MEDIA_TYPE,
    bootstrap_publisher,
    copy_package,
    package_manifest,
    sha256_digest,
    spec_files_for,
    spki_key_id,
)

PKG = "x-road-security-server"
NAME = package_manifest(PKG)["package"]["name"]
VERSION = package_manifest(PKG)["package"]["version"]
NS = NAME.split("/")[0]


def fetch_manifest(registry, reference: str) -> tuple[bytes, dict]:
    r = requests.get(registry.v2(f"{NAME}/manifests/{reference}"), headers={"Accept": OCI_MANIFEST}, timeout=10)
    assert r.status_code == 200, f"GET manifest {reference}: {r.status_code} {r.text[:300]}"
    return r.content, r.json()


def fetch_blob(registry, digest: str) -> bytes:
    r = requests.get(registry.v2(f"{NAME}/blobs/{digest}"), timeout=10)
    assert r.status_code == 200, f"GET blob {digest}: {r.status_code}"
    assert sha256_digest(r.content) == digest
    return r.content


def test_signature_verifies_with_cryptography(signed_registry, govstore, work_dir):
    reg = signed_registry
    publisher = bootstrap_publisher(reg, govstore, work_dir, user="xroad-ops", namespace=NS, specs=spec_files_for(PKG))
    published = publisher.publish(copy_package(PKG, work_dir / "pkg"))
    digest = published["digest"]

    # The package manifest, by tag.
    package_bytes, _ = fetch_manifest(reg, VERSION)
    assert sha256_digest(package_bytes) == digest

    # The cosign-layout signature manifest.
    sig_bytes, sig = fetch_manifest(reg, digest.replace(":", "-") + ".sig")
    assert sha256_digest(sig_bytes) == published["signature_digest"]
    [layer] = sig["layers"]
    assert layer["mediaType"] == SIMPLE_SIGNING_MEDIA_TYPE, layer
    signature = base64.b64decode(layer["annotations"][COSIGN_SIGNATURE_ANNOTATION], validate=True)
    payload = fetch_blob(reg, layer["digest"])
    assert len(payload) == layer["size"]
    # OCI 1.1: the signature also points at the package as its subject, and the
    # referrers API lists it.
    assert sig["subject"]["digest"] == digest, sig.get("subject")
    referrers = requests.get(reg.v2(f"{NAME}/referrers/{digest}"), timeout=10).json()["manifests"]
    assert published["signature_digest"] in [m["digest"] for m in referrers], referrers

    # The simple-signing payload names this manifest and repository.
    simple = json.loads(payload)
    assert simple["critical"]["type"] == "cosign container image signature", simple
    assert simple["critical"]["image"]["docker-manifest-digest"] == digest, simple
    assert simple["critical"]["identity"]["docker-reference"] == f"{reg.host}/{NAME}", simple

    # The namespace's key, from the JSON API.
    r = requests.get(reg.api(f"namespaces/{NS}/keys"), timeout=10)
    assert r.status_code == 200, r.text
    [listed] = r.json()["keys"]
    assert listed["key_id"] == publisher.key_id == published["key_id"]
    assert spki_key_id(listed["public_key"]) == listed["key_id"], "key id is not sha256 of the SPKI DER"
    public = serialization.load_pem_public_key(listed["public_key"].encode())
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"
    # ... the same key as the publisher's cosign.pub.
    assert listed["public_key"].strip() == publisher.pub.read_text().strip()

    # ECDSA P-256 / SHA-256 over the payload bytes (DER signature, as cosign writes it).
    public.verify(signature, payload, ec.ECDSA(hashes.SHA256()))

    # And the check is real: other bytes do not verify.
    forged = payload.replace(digest.encode(), ("sha256:" + "0" * 64).encode())
    assert forged != payload
    with pytest.raises(InvalidSignature):
        public.verify(signature, forged, ec.ECDSA(hashes.SHA256()))
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(InvalidSignature):
        other.verify(signature, payload, ec.ECDSA(hashes.SHA256()))


def canonical_config(doc: dict) -> bytes:
    """govstore's canonical JSON of a package manifest: sorted keys, no spaces, UTF-8."""
    return json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def upload_blob(registry, token: str, data: bytes) -> str:
    """POST + PUT upload of one blob into NAME, with a Bearer token."""
    digest = sha256_digest(data)
    auth = {"Authorization": f"Bearer {token}"}
    r = requests.post(registry.v2(f"{NAME}/blobs/uploads/"), headers=auth, timeout=10)
    assert r.status_code == 202, (r.status_code, r.text)
    location = r.headers["Location"]
    if location.startswith("/"):
        location = registry.url + location
    sep = "&" if "?" in location else "?"
    r = requests.put(
        f"{location}{sep}digest={digest}",
        data=data,
        headers={**auth, "Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert r.status_code == 201, (r.status_code, r.text)
    return digest


def simple_signing_payload(registry, digest: str) -> bytes:
    return json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": f"{registry.host}/{NAME}"},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        },
        separators=(",", ":"),
    ).encode()


def post_version(registry, token: str, manifest: bytes, payload: bytes, signature: bytes) -> requests.Response:
    body = {
        "manifest": manifest.decode(),
        "payload": base64.b64encode(payload).decode(),
        "signature": base64.b64encode(signature).decode(),
    }
    return requests.post(
        registry.api(f"packages/{NAME}/versions"), json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_foreign_key_and_signature_are_accepted(signed_registry, govstore, work_dir):
    """The other direction: a P-256 key made by `cryptography`, registered with the CLI,
    and a simple-signing signature made by `cryptography` for a new version published
    through the JSON API. The registry accepts it, `govstore verify` verifies it, and a
    signature by an unregistered key is refused with nothing stored."""
    reg = signed_registry
    publisher = bootstrap_publisher(reg, govstore, work_dir, user="xroad-ops", namespace=NS, specs=spec_files_for(PKG))
    first = publisher.publish(copy_package(PKG, work_dir / "pkg"))

    # A key pair made outside govstore, registered with `govstore key register`.
    private = ec.generate_private_key(ec.SECP256R1())
    pub_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    pub_file = work_dir / "foreign.pub"
    pub_file.write_text(pub_pem)
    registered = govstore.json("key", "register", "--namespace", NS, "--key", pub_file, "--name", "python")
    assert registered["key_id"] == spki_key_id(pub_pem), registered

    # A new version built by hand from the published one: its config with the new
    # version, the same content and README blobs, a new manifest.
    _, manifest = fetch_manifest(reg, VERSION)
    config = json.loads(fetch_blob(reg, manifest["config"]["digest"]))
    assert canonical_config(config) == fetch_blob(reg, manifest["config"]["digest"]), "config is not canonical JSON"

    def build(version: str) -> tuple[bytes, str]:
        config["package"]["version"] = version
        data = canonical_config(config)
        upload_blob(reg, publisher.token, data)
        doc = json.loads(json.dumps(manifest))
        doc["config"] = {**doc["config"], "digest": sha256_digest(data), "size": len(data)}
        doc["annotations"]["org.opencontainers.image.version"] = version
        raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        return raw, sha256_digest(raw)

    new_version = "7.8.1"
    raw, digest = build(new_version)
    payload = simple_signing_payload(reg, digest)
    r = post_version(reg, publisher.token, raw, payload, private.sign(payload, ec.ECDSA(hashes.SHA256())))
    assert r.status_code == 201, (r.status_code, r.text)

    report = govstore.json("verify", f"{NAME}@{new_version}")
    assert report["digest"] == digest and report["key_id"] == registered["key_id"], report
    assert report["key_name"] == "python", report
    info = govstore.json("info", NAME)
    assert info["latest"] == new_version and {v["version"] for v in info["versions"]} == {VERSION, new_version}
    assert first["key_id"] != registered["key_id"]

    # Signed by a key the namespace never registered: refused, nothing visible.
    stranger = ec.generate_private_key(ec.SECP256R1())
    raw, digest = build("7.8.2")
    payload = simple_signing_payload(reg, digest)
    r = post_version(reg, publisher.token, raw, payload, stranger.sign(payload, ec.ECDSA(hashes.SHA256())))
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "SIGNATURE_INVALID", (r.status_code, r.text)
    # A valid signature over another manifest's payload: refused as well.
    other_payload = simple_signing_payload(reg, first["digest"])
    r = post_version(reg, publisher.token, raw, other_payload, private.sign(other_payload, ec.ECDSA(hashes.SHA256())))
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "SIGNATURE_INVALID", (r.status_code, r.text)
    assert fetch_status(reg, "7.8.2") == 404 and fetch_status(reg, digest) == 404
    assert fetch_status(reg, digest.replace(":", "-") + ".sig") == 404
    assert requests.get(reg.api(f"packages/{NAME}/versions/7.8.2"), timeout=10).status_code == 404


def fetch_status(registry, reference: str) -> int:
    return requests.get(
        registry.v2(f"{NAME}/manifests/{reference}"), headers={"Accept": OCI_MANIFEST}, timeout=10
    ).status_code
