"""What real clients meet but do not exercise on purpose, over real sockets: broken
connections mid-upload and resumption, concurrent pushes of the same blob, tag and new
repository, and a restart of the server. Plain HTTP with requests and raw sockets.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from e2e_helpers import MIB, OCI_MANIFEST, descriptor, sha256_digest

CONFIG_TYPE = "application/vnd.govstore.test.config.v1+json"
LAYER_TYPE = "application/vnd.govstore.test.layer.v1"


def absolute(registry, location: str) -> str:
    return urllib.parse.urljoin(registry.url + "/", location)


def with_digest(url: str, digest: str) -> str:
    return url + ("&" if "?" in url else "?") + "digest=" + urllib.parse.quote(digest, safe="")


def start_upload(registry, repo: str, session: requests.Session | None = None) -> str:
    r = (session or requests).post(registry.v2(f"{repo}/blobs/uploads/"))
    assert r.status_code == 202, f"POST upload: {r.status_code} {r.text[:300]}"
    return absolute(registry, r.headers["Location"])


def push_blob(registry, repo: str, data: bytes, session: requests.Session | None = None) -> requests.Response:
    s = session or requests
    loc = start_upload(registry, repo, session)
    return s.put(with_digest(loc, sha256_digest(data)), data=data, headers={"Content-Type": "application/octet-stream"})


def push_manifest(registry, repo: str, ref: str, layer: bytes, config: bytes, session=None) -> tuple[requests.Response, bytes]:
    for blob in (layer, config):
        r = push_blob(registry, repo, blob, session)
        assert r.status_code == 201, f"blob PUT: {r.status_code} {r.text[:300]}"
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.govstore.test.artifact.v1",
            "config": descriptor(CONFIG_TYPE, config),
            "layers": [descriptor(LAYER_TYPE, layer)],
        }
    ).encode()
    r = (session or requests).put(
        registry.v2(f"{repo}/manifests/{ref}"), data=manifest, headers={"Content-Type": OCI_MANIFEST}
    )
    return r, manifest


def raw_request_then_hang_up(registry, method: str, url: str, headers: dict, body_part: bytes) -> None:
    """Send a request whose body is cut short, then close the connection."""
    u = urllib.parse.urlsplit(url)
    path = u.path + (f"?{u.query}" if u.query else "")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {registry.host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", registry.port), timeout=10) as s:
        s.sendall(head)
        s.sendall(body_part)
        time.sleep(0.5)  # let the server read what was sent
        s.shutdown(socket.SHUT_RDWR)
    time.sleep(0.5)  # let the server notice


def upload_status(registry, loc: str) -> requests.Response:
    return requests.get(loc)


def received_from_range(r: requests.Response) -> int:
    rng = r.headers.get("Range", "")
    assert rng.startswith("0-"), f"upload status must carry Range: 0-<end>, got {rng!r} ({r.status_code})"
    return int(rng[2:]) + 1


def test_monolithic_put_cut_short_stores_nothing(registry):
    repo = "govstore/test/broken"
    data = os.urandom(3 * MIB)
    digest = sha256_digest(data)
    loc = start_upload(registry, repo)
    raw_request_then_hang_up(
        registry,
        "PUT",
        with_digest(loc, digest),
        {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
        data[: len(data) // 2],
    )
    assert requests.get(registry.v2()).status_code == 200, "server died after a client hung up"
    r = requests.head(registry.v2(f"{repo}/blobs/{digest}"))
    assert r.status_code == 404, f"a blob was stored from half its bytes: HEAD answered {r.status_code}"

    # A fresh upload of the whole blob works and yields exactly the bytes.
    r = push_blob(registry, repo, data)
    assert r.status_code == 201, f"{r.status_code} {r.text[:300]}"
    got = requests.get(registry.v2(f"{repo}/blobs/{digest}"))
    assert got.status_code == 200 and got.content == data


def test_chunked_upload_resumes_after_broken_patch(registry):
    if registry.is_reference:
        pytest.skip("distribution 2.8 invalidates its _state token when a PATCH breaks")
    repo = "govstore/test/resume"
    data = os.urandom(3 * MIB + 777)
    digest = sha256_digest(data)
    loc = start_upload(registry, repo)

    # First chunk arrives whole.
    first = data[:MIB]
    r = requests.patch(
        loc,
        data=first,
        headers={"Content-Type": "application/octet-stream", "Content-Range": f"0-{len(first) - 1}"},
    )
    assert r.status_code == 202, f"PATCH 1: {r.status_code} {r.text[:300]}"
    assert r.headers.get("Range") == f"0-{len(first) - 1}"
    loc = absolute(registry, r.headers["Location"])

    # Second chunk: the connection breaks half way.
    second = data[MIB : 2 * MIB]
    raw_request_then_hang_up(
        registry,
        "PATCH",
        loc,
        {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{MIB}-{2 * MIB - 1}",
            "Content-Length": str(len(second)),
        },
        second[: len(second) // 2],
    )

    # The client asks where the upload stands, as the spec's resumable flow says.
    st = upload_status(registry, loc)
    assert st.status_code == 204, f"GET upload status: {st.status_code} {st.text[:300]}"
    received = received_from_range(st)
    assert MIB <= received <= MIB + len(second) // 2, f"upload claims {received} bytes received"
    loc = absolute(registry, st.headers.get("Location", loc))

    # Resume from there and finish with the last bytes in the closing PUT.
    rest_end = 3 * MIB
    r = requests.patch(
        loc,
        data=data[received:rest_end],
        headers={"Content-Type": "application/octet-stream", "Content-Range": f"{received}-{rest_end - 1}"},
    )
    assert r.status_code == 202, f"resumed PATCH: {r.status_code} {r.text[:300]}"
    loc = absolute(registry, r.headers["Location"])
    r = requests.put(with_digest(loc, digest), data=data[rest_end:], headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 201, f"closing PUT: {r.status_code} {r.text[:300]}"
    assert r.headers.get("Docker-Content-Digest") == digest
    got = requests.get(registry.v2(f"{repo}/blobs/{digest}"))
    assert got.status_code == 200 and got.content == data


def test_out_of_order_chunk_is_refused(registry):
    if registry.is_reference:
        pytest.skip("distribution 2.8 ignores Content-Range on PATCH")
    repo = "govstore/test/order"
    data = os.urandom(64 * 1024)
    loc = start_upload(registry, repo)
    r = requests.patch(loc, data=data[:1000], headers={"Content-Range": "0-999", "Content-Type": "application/octet-stream"})
    assert r.status_code == 202
    loc = absolute(registry, r.headers["Location"])
    r = requests.patch(loc, data=data[2000:3000], headers={"Content-Range": "2000-2999", "Content-Type": "application/octet-stream"})
    assert r.status_code == 416, f"a chunk leaving a gap answered {r.status_code}"
    st = upload_status(registry, loc)
    assert received_from_range(st) == 1000, "a refused chunk changed the upload"


def test_wrong_digest_stores_nothing(registry):
    repo = "govstore/test/digest"
    data = os.urandom(200 * 1024)
    claimed = sha256_digest(b"something else")
    loc = start_upload(registry, repo)
    r = requests.put(with_digest(loc, claimed), data=data, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400, f"{r.status_code} {r.text[:300]}"
    assert "DIGEST_INVALID" in [e.get("code") for e in r.json().get("errors", [])], r.text
    for d in (claimed, sha256_digest(data)):
        assert requests.head(registry.v2(f"{repo}/blobs/{d}")).status_code == 404


def test_concurrent_uploads_of_one_blob(registry):
    """Eight clients push the same new blob at once, each into a new repository."""
    data = os.urandom(4 * MIB)
    digest = sha256_digest(data)
    barrier = threading.Barrier(8)

    def one(i: int) -> tuple[int, str]:
        with requests.Session() as s:
            repo = f"govstore/race/r{i % 3}"
            barrier.wait()
            r = push_blob(registry, repo, data, s)
            return r.status_code, r.text[:200]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert all(code == 201 for code, _ in results), results
    for i in range(3):
        got = requests.get(registry.v2(f"govstore/race/r{i}/blobs/{digest}"))
        assert got.status_code == 200 and got.content == data


def test_concurrent_manifest_pushes_to_one_tag(registry):
    """Eight clients create one new repository and push different manifests to one tag."""
    repo = "govstore/race/tagged"
    barrier = threading.Barrier(8)

    def one(i: int):
        with requests.Session() as s:
            layer = os.urandom(16 * 1024)
            config = json.dumps({"client": i}).encode()
            barrier.wait()
            r, manifest = push_manifest(registry, repo, "latest", layer, config, s)
            return r.status_code, r.text[:200], manifest

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert all(code == 201 for code, _, _ in results), [(c, t) for c, t, _ in results]
    digests = {sha256_digest(m) for _, _, m in results}
    r = requests.head(registry.v2(f"{repo}/manifests/latest"), headers={"Accept": OCI_MANIFEST})
    assert r.status_code == 200 and r.headers.get("Docker-Content-Digest") in digests
    for _, _, m in results:
        got = requests.get(registry.v2(f"{repo}/manifests/{sha256_digest(m)}"), headers={"Accept": OCI_MANIFEST})
        assert got.status_code == 200 and got.content == m
    assert requests.get(registry.v2(f"{repo}/tags/list")).json()["tags"] == ["latest"]


def test_content_survives_restart(registry):
    repo = "govstore/test/durable"
    layer = os.urandom(512 * 1024)
    config = b'{"durable":true}'
    r, manifest = push_manifest(registry, repo, "v1", layer, config)
    assert r.status_code == 201, r.text
    subject = {"mediaType": OCI_MANIFEST, "digest": sha256_digest(manifest), "size": len(manifest)}
    referrer = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.govstore.test.signature.v1",
            "config": descriptor(CONFIG_TYPE, config),
            "layers": [descriptor(LAYER_TYPE, layer)],
            "subject": subject,
        }
    ).encode()
    r = requests.put(
        registry.v2(f"{repo}/manifests/{sha256_digest(referrer)}"), data=referrer, headers={"Content-Type": OCI_MANIFEST}
    )
    assert r.status_code == 201, r.text
    # An upload left half way, to be resumed after the restart.
    pending = os.urandom(300 * 1024)
    loc = start_upload(registry, repo)
    r = requests.patch(loc, data=pending[:100_000], headers={"Content-Range": "0-99999", "Content-Type": "application/octet-stream"})
    assert r.status_code == 202
    loc = absolute(registry, r.headers["Location"])

    registry.restart()
    resumable = not registry.is_reference  # distribution 2.8's _state secret is per process

    got = requests.get(registry.v2(f"{repo}/manifests/v1"), headers={"Accept": OCI_MANIFEST})
    assert got.status_code == 200 and got.content == manifest
    got = requests.get(registry.v2(f"{repo}/blobs/{sha256_digest(layer)}"))
    assert got.status_code == 200 and got.content == layer
    assert requests.get(registry.v2(f"{repo}/tags/list")).json()["tags"] == ["v1"]
    if not registry.is_reference:
        refs = requests.get(registry.v2(f"{repo}/referrers/{sha256_digest(manifest)}")).json()["manifests"]
        assert [d["digest"] for d in refs] == [sha256_digest(referrer)]

    if not resumable:
        return
    st = upload_status(registry, loc)
    assert st.status_code == 204, f"upload session lost in the restart: {st.status_code} {st.text[:200]}"
    assert received_from_range(st) == 100_000
    r = requests.put(
        with_digest(absolute(registry, st.headers.get("Location", loc)), sha256_digest(pending)),
        data=pending[100_000:],
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, f"{r.status_code} {r.text[:300]}"
    got = requests.get(registry.v2(f"{repo}/blobs/{sha256_digest(pending)}"))
    assert got.content == pending
