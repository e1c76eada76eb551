"""Stopping the server with SIGTERM (as systemd, Kubernetes and `docker stop` do): it
stops accepting connections, lets in-flight requests finish, writes the pending
download counts and exits 0. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time

import pytest
import requests

from e2e_helpers import (
    bootstrap_publisher,
    copy_package,
    package_manifest,
    sha256_digest,
    spec_files_for,
)

PKG = "mosip-esignet"
NAME = package_manifest(PKG)["package"]["name"]
NS = NAME.split("/")[0]


def _exit_status(reg, timeout: float = 20) -> int:
    try:
        return reg.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        reg.proc.kill()
        reg.proc.wait(timeout=10)
        raise AssertionError(f"the server did not exit within {timeout}s of SIGTERM\n{reg.log_tail()}")


def test_sigterm_lets_an_in_flight_upload_finish(registry):
    """A blob upload whose body is half sent when SIGTERM arrives completes (201, the
    blob is stored); new connections are refused meanwhile; the server exits 0."""
    if registry.is_reference:
        pytest.skip("this tests govstore-server's shutdown")
    repo = "e2e/shutdown"
    blob = os.urandom(256 * 1024)
    digest = sha256_digest(blob)
    start = requests.post(registry.v2(f"{repo}/blobs/uploads/"), timeout=10)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    sep = "&" if "?" in location else "?"
    path = location if location.startswith("/") else "/" + location.split("/", 3)[3]

    conn = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=30)
    conn.putrequest("PUT", f"{path}{sep}digest={digest}")
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(len(blob)))
    conn.endheaders()
    conn.send(blob[: len(blob) // 2])
    time.sleep(0.3)

    registry.proc.send_signal(signal.SIGTERM)
    # Stopped accepting: a new connection is refused (or closed unanswered) soon.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            requests.get(registry.v2(), timeout=1)
        except requests.RequestException:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the server still accepts new requests 10s after SIGTERM")
    assert registry.proc.poll() is None, "the server exited with a request in flight"

    time.sleep(1.0)
    conn.send(blob[len(blob) // 2 :])
    res = conn.getresponse()
    body = res.read()
    assert res.status == 201, f"{res.status} {body[:500]!r}\n{registry.log_tail()}"
    assert res.getheader("Docker-Content-Digest") == digest
    conn.close()
    assert _exit_status(registry) == 0, registry.log_tail()
    log = registry.log_path.read_text(errors="replace")
    assert "SIGTERM" in log and "shutting down" in log, log[-3000:]

    # The upload was committed: after a restart the blob is there, whole.
    registry.restart()
    got = requests.get(registry.v2(f"{repo}/blobs/{digest}"), timeout=10)
    assert got.status_code == 200 and got.content == blob, got.status_code


def test_sigterm_writes_pending_download_counts(signed_registry, govstore, work_dir):
    """A counted download (the whole content layer of a published version) made just
    before SIGTERM is written at shutdown: after a restart the package shows it."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    pkg = copy_package(PKG, work_dir / "pkg", version="1.9.0")
    published = alice.publish(pkg)
    manifest = requests.get(
        reg.v2(f"{NAME}/manifests/{published['digest']}"),
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=10,
    ).json()
    content = manifest["layers"][0]["digest"]
    # The signal follows at once: the periodic writer (every 5 s) has not run since.
    got = requests.get(reg.v2(f"{NAME}/blobs/{content}"), timeout=10)
    assert got.status_code == 200 and sha256_digest(got.content) == content
    reg.proc.send_signal(signal.SIGTERM)
    assert _exit_status(reg) == 0, reg.log_tail()

    reg.restart()
    page = requests.get(f"{reg.url}/packages/{NAME}", headers={"Accept-Language": "en"}, timeout=10)
    assert page.status_code == 200, page.status_code
    assert "1 download in all" in page.text, reg.log_tail()
