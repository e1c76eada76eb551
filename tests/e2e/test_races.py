"""Plain OCI manifest writes racing `govstore publish` never leave an unsigned manifest
under a version tag: a PUT whose headers go out before a publish and whose body comes
after is refused, also across a later publish of another version; PUTs in a loop beside
publishes end the same way. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import http.client
import json
import threading
import time

import requests

from e2e_helpers import (
    OCI_MANIFEST,
    bootstrap_publisher,
    copy_package,
    package_manifest,
    sha256_digest,
    spec_files_for,
)

PKG = "mosip-esignet"
NAME = package_manifest(PKG)["package"]["name"]
NS = NAME.split("/")[0]


def push_empty_config(reg, token: str, name: str = NAME) -> bytes:
    """Uploads `{}` to NAME and returns a plain image manifest over it."""
    data = b"{}"
    digest = sha256_digest(data)
    r = requests.post(
        reg.v2(f"{name}/blobs/uploads/?digest={digest}"),
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest, "size": 2},
            "layers": [],
        }
    ).encode()


class HeldPut:
    """A manifest PUT whose headers are sent now and whose body is sent by `finish`."""

    def __init__(self, reg, tag: str, token: str, body: bytes):
        self.body = body
        self.conn = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=60)
        self.conn.putrequest("PUT", f"/v2/{NAME}/manifests/{tag}")
        self.conn.putheader("Authorization", f"Bearer {token}")
        self.conn.putheader("Content-Type", OCI_MANIFEST)
        self.conn.putheader("Content-Length", str(len(body)))
        self.conn.endheaders()

    def finish(self) -> tuple[int, str]:
        self.conn.send(self.body)
        res = self.conn.getresponse()
        text = res.read().decode(errors="replace")
        self.conn.close()
        return res.status, text


def tagged(reg, tag: str, name: str = NAME) -> str:
    r = requests.get(reg.v2(f"{name}/manifests/{tag}"), headers={"Accept": OCI_MANIFEST}, timeout=10)
    assert r.status_code == 200, (tag, r.status_code, r.text)
    return sha256_digest(r.content)


def test_held_manifest_put_cannot_take_a_version_tag(signed_registry, govstore, work_dir):
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    v1 = copy_package(PKG, work_dir / "v1", version="1.9.0")
    v2 = copy_package(PKG, work_dir / "v2", version="2.0.0")
    unsigned = push_empty_config(reg, alice.token)

    # Both PUTs pass the early check: the repository holds no package yet.
    held = {tag: HeldPut(reg, tag, alice.token, unsigned) for tag in ("1.9.0", "2.0.0")}
    time.sleep(1.0)
    first = alice.publish(v1)
    status, text = held["1.9.0"].finish()
    assert status == 403 and "DENIED" in text, (status, text)
    assert tagged(reg, "1.9.0") == first["digest"]

    second = alice.publish(v2)
    status, text = held["2.0.0"].finish()
    assert status == 403 and "DENIED" in text, (status, text)
    assert tagged(reg, "2.0.0") == second["digest"]
    assert tagged(reg, "1.9.0") == first["digest"]


def renamed(pkg, name: str):
    """Gives the copied package another name (a new repository for each round)."""
    manifest = pkg / "govstore.toml"
    text = manifest.read_text()
    assert f'name = "{NAME}"' in text
    manifest.write_text(text.replace(f'name = "{NAME}"', f'name = "{name}"', 1))
    return pkg


def test_manifest_puts_in_a_loop_beside_publishes(signed_registry, govstore, work_dir):
    """Each round publishes a new package while a client PUTs an unsigned manifest under
    its version tag back to back, until a few PUTs after the publish answered."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    version = package_manifest(PKG)["package"]["version"]
    for i in range(4):
        name = f"{NAME}-race{i}"
        pkg = renamed(copy_package(PKG, work_dir / f"pkg{i}"), name)
        unsigned = push_empty_config(reg, alice.token, name)
        done = threading.Event()
        answers: list[int] = []

        def hammer() -> None:
            after = 0
            with requests.Session() as s:
                while after < 3:
                    if done.is_set():
                        after += 1
                    try:
                        r = s.put(
                            reg.v2(f"{name}/manifests/{version}"),
                            data=unsigned,
                            headers={"Authorization": f"Bearer {alice.token}", "Content-Type": OCI_MANIFEST},
                            timeout=30,
                        )
                    except requests.ConnectionError:
                        # A refusal answered before the body was read closes the
                        # connection; the pooled connection is then gone: try again.
                        continue
                    answers.append(r.status_code)

        t = threading.Thread(target=hammer)
        t.start()
        try:
            published = alice.publish(pkg)
        finally:
            done.set()
            t.join(timeout=60)
        assert set(answers) <= {201, 403}, answers
        assert answers[-1] == 403, answers
        assert tagged(reg, version, name) == published["digest"], f"{name}: PUT answers {answers}"
