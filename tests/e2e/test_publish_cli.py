"""Signed publishing with the real `govstore` command line against `govstore-server`.

Each test runs on SQLite and on PostgreSQL, against a server started without
`--insecure-anonymous-push`: accounts come from `govstore-server admin`, everything
else goes through the CLI. What the CLI says is checked for its meaning (the key, the
digest, the reason), and what the registry shows is checked over plain HTTP.
"""

from __future__ import annotations

import base64
import json
import re
import stat
import tomllib
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization

from e2e_helpers import (
    OCI_MANIFEST,
    assert_version_invisible,
    bootstrap_publisher,
    copy_package,
    errors_of,
    package_manifest,
    sha256_digest,
    spec_files_for,
    spki_key_id,
)

# mosip/esignet 1.8.0: implements govstack/identity 1.0.2, requires
# govstack/information-mediator ^1.1.
PKG = "mosip-esignet"
NAME = package_manifest(PKG)["package"]["name"]
VERSION = package_manifest(PKG)["package"]["version"]
NS = NAME.split("/")[0]
ARTIFACT_TYPE = "application/vnd.govstore.package.v1+json"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def get_manifest(registry, repo: str, reference: str) -> requests.Response:
    return requests.get(registry.v2(f"{repo}/manifests/{reference}"), headers={"Accept": OCI_MANIFEST}, timeout=10)


def audit_events(registry) -> list[dict]:
    """The whole audit log, read with a fresh admin token."""
    registry.admin("create-user", "auditor", "--admin", check=False)
    token = registry.create_token("auditor", "admin")
    r = requests.get(registry.api("audit?limit=1000"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["events"]


def publishes_of(registry, target: str) -> list[dict]:
    return [e for e in audit_events(registry) if e["action"] == "version.publish" and e["target"] == target]


def test_publish_flow(signed_registry, govstore, work_dir):
    """Admin bootstrap, keygen, login, key register, spec publish, publish, info,
    search, verify, yank and yank --undo: the whole path of a publisher."""
    reg = signed_registry
    ref = f"{NAME}@{VERSION}"

    # -- Admin bootstrap: a user owning an organisation, with scoped tokens.
    reg.admin("create-user", "alice")
    reg.admin("create-org", NS, "--owner", "alice")
    token = reg.create_token("alice", f"publish:{NS}", f"yank:{NS}", f"keys:{NS}")
    specs_token = reg.create_token("alice", "specs")

    # -- keygen: an encrypted cosign key (mode 0600) and its public half.
    keys = work_dir / "keys"
    key_file, pub_file = keys / "cosign.key", keys / "cosign.pub"
    kg = govstore.json("keygen", "--key-out", key_file, "--pub-out", pub_file)
    assert mode(key_file) == 0o600, oct(mode(key_file))
    pem_lines = key_file.read_text().strip().splitlines()
    assert pem_lines[0] == "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----", pem_lines[0]
    assert pem_lines[-1] == "-----END ENCRYPTED COSIGN PRIVATE KEY-----", pem_lines[-1]
    sealed = json.loads(base64.b64decode("".join(pem_lines[1:-1])))
    assert sealed["kdf"]["name"] == "scrypt" and sealed["kdf"]["params"]["N"] == 32768, sealed["kdf"]
    assert sealed["cipher"]["name"] == "nacl/secretbox", sealed["cipher"]
    pub_pem = pub_file.read_text()
    public = serialization.load_pem_public_key(pub_pem.encode())
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"
    key_id = kg["key_id"]
    assert key_id == spki_key_id(pub_pem)
    # An existing key is never overwritten silently.
    before = key_file.read_bytes()
    res = govstore.fail("keygen", "--key-out", key_file, "--pub-out", pub_file)
    assert "exists already" in errors_of(res) and "--force" in errors_of(res), res.describe()
    assert key_file.read_bytes() == before

    # -- login: the token is checked and stored (mode 0600), never printed.
    res = govstore.run("login", "--token", token, registry=reg.url)
    assert f"logged in to {reg.url} as alice" in res.text, res.describe()
    assert token not in res.text and token not in res.stderr, res.describe()
    assert mode(govstore.config_file) == 0o600, oct(mode(govstore.config_file))
    assert mode(govstore.config_dir) == 0o700, oct(mode(govstore.config_dir))
    config = tomllib.loads(govstore.config_file.read_text())
    assert config["registry"] == reg.url and config["tokens"][reg.url] == token, config
    # Again with --json and the token on stdin.
    login = govstore.json("login", registry=reg.url, input=token + "\n")
    assert token not in json.dumps(login), login
    assert login["registry"] == reg.url and login["me"]["user"] == "alice", login
    assert login["me"]["orgs"] == [{"name": NS, "role": "owner"}], login
    assert sorted(login["me"]["token"]["scopes"]) == sorted([f"publish:{NS}", f"yank:{NS}", f"keys:{NS}"]), login
    prefix = login["me"]["token"]["prefix"]
    assert token.startswith(prefix) and len(prefix) < len(token) // 2, (prefix, len(token))
    # A wrong token is refused and not stored.
    res = govstore.fail("login", "--token", token[:-4] + "AAAA", registry=reg.url)
    assert "does not accept this token" in errors_of(res), res.describe()
    assert tomllib.loads(govstore.config_file.read_text())["tokens"][reg.url] == token

    # From here on, no --registry: the CLI uses the registry it logged in to.

    # -- key register and key list.
    registered = govstore.json("key", "register", "--namespace", NS, "--key", pub_file, "--name", "release-laptop")
    assert registered["key_id"] == key_id and registered["name"] == "release-laptop", registered
    listed = govstore.json("key", "list", NS)
    assert listed["namespace"] == NS and [k["key_id"] for k in listed["keys"]] == [key_id], listed
    assert listed["keys"][0]["revoked_at"] is None
    assert spki_key_id(listed["keys"][0]["public_key"]) == key_id
    # The private key is refused by key register.
    res = govstore.fail("key", "register", "--namespace", NS, "--key", key_file)
    assert "private key" in errors_of(res), res.describe()

    # -- spec publish: the specs the package refers to, with a `specs`-scoped token.
    specs = spec_files_for(PKG)
    res = govstore.fail("spec", "publish", specs[0])
    assert "DENIED" in res.stderr and "specs" in errors_of(res), res.describe()
    for spec_file in specs:
        doc = tomllib.loads(spec_file.read_text())
        out = govstore.json("spec", "publish", spec_file, token=specs_token)
        assert out["id"] == doc["id"], out
        assert out["versions"] == [v["version"] for v in doc["versions"]], out
        assert requests.get(reg.api(f"specs/{doc['id']}"), timeout=10).status_code == 200

    # -- publish (the dry run computes the same digest locally, sending nothing).
    pkg = copy_package(PKG, work_dir / "pkg")
    dry = govstore.json("publish", pkg, "--dry-run")
    assert dry["name"] == NAME and dry["version"] == VERSION, dry
    assert get_manifest(reg, NAME, VERSION).status_code == 404
    published = govstore.json("publish", pkg, "--key", key_file)
    digest = published["digest"]
    assert published["name"] == NAME and published["version"] == VERSION, published
    assert digest == dry["digest"], (published, dry)
    assert published["key_id"] == key_id, published
    assert published["signature_digest"].startswith("sha256:") and published["signature_digest"] != digest

    # The version tag over plain HTTP is that manifest.
    r = get_manifest(reg, NAME, VERSION)
    assert r.status_code == 200, r.text
    assert r.headers["Docker-Content-Digest"] == digest and sha256_digest(r.content) == digest
    package_manifest_doc = r.json()
    assert package_manifest_doc["artifactType"] == ARTIFACT_TYPE, package_manifest_doc

    # -- info, package and version, text and JSON.
    info = govstore.json("info", NAME)
    assert info["name"] == NAME and info["namespace"] == NS and info["latest"] == VERSION, info
    [v] = info["versions"]
    assert v["version"] == VERSION and v["digest"] == digest and v["key_id"] == key_id, v
    assert v["signature_digest"] == published["signature_digest"] and v["yanked"] is False, v
    text = govstore.run("info", NAME).text
    assert re.search(rf"latest:\s+{re.escape(VERSION)}\b", text), text
    vinfo = govstore.json("info", ref)
    assert vinfo["digest"] == digest and vinfo["key_id"] == key_id and vinfo["yanked"] is False, vinfo
    assert vinfo["manifest"]["package"]["name"] == NAME, vinfo["manifest"]
    assert vinfo["manifest"]["implements"][0]["spec"] == "govstack/identity", vinfo["manifest"]
    text = govstore.run("info", ref).text
    assert digest in text and key_id in text and "govstack/identity 1.0.2" in text, text

    # -- search.
    found = govstore.json("search", "esignet")
    hits = [h for h in found["results"] if h["name"] == NAME]
    assert hits and hits[0]["version"] == VERSION and "govstack/identity@1.0.2" in hits[0]["implements"], found
    assert f"{NAME} {VERSION}" in govstore.run("search", "esignet").text

    # -- verify: who signed, with which key.
    res = govstore.run("verify", ref)
    assert f"verified {NAME} {VERSION}" in res.text, res.describe()
    assert f"signed by: namespace {NS} with key {key_id} (release-laptop)" in res.text, res.describe()
    report = govstore.json("verify", ref)
    assert report["digest"] == digest and report["namespace"] == NS, report
    assert report["key_id"] == key_id and report["key_name"] == "release-laptop", report
    assert report["signature_digest"] == published["signature_digest"], report
    assert report["docker_reference"] == f"{reg.host}/{NAME}" and report["reference_host_matches"] is True, report
    assert {b["role"] for b in report["blobs"]} == {"config", "content", "readme"}, report
    assert report["yanked"] is False

    # -- yank with a reason.
    reason = "CVE-2026-12345: tokens leak into logs; use 1.8.1"
    yanked = govstore.json("yank", ref, "--reason", reason)
    assert yanked["yanked"] is True and yanked["yank_reason"] == reason, yanked
    info = govstore.json("info", NAME)
    assert info["latest"] is None and info["versions"][0]["yank_reason"] == reason, info
    assert re.search(rf"yanked:\s+{re.escape(reason)}", govstore.run("info", ref).text)
    assert f"yanked: {reason}" in govstore.run("info", NAME).text
    assert govstore.json("info", ref)["yank_reason"] == reason
    # Still verifiable, with a warning.
    res = govstore.run("verify", ref)
    assert f"warning: {ref} is yanked: {reason}" in res.stderr, res.describe()
    report = govstore.json("verify", ref)
    assert report["yanked"] is True and report["yank_reason"] == reason, report
    # Its bytes stay pullable by digest over plain HTTP.
    r = get_manifest(reg, NAME, digest)
    assert r.status_code == 200 and sha256_digest(r.content) == digest, r.status_code
    for desc in [r.json()["config"], *r.json()["layers"]]:
        blob = requests.get(reg.v2(f"{NAME}/blobs/{desc['digest']}"), timeout=10)
        assert blob.status_code == 200 and sha256_digest(blob.content) == desc["digest"], desc
    sig_tag = digest.replace(":", "-") + ".sig"
    assert get_manifest(reg, NAME, sig_tag).status_code == 200

    # -- yank --undo.
    undone = govstore.json("yank", ref, "--undo")
    assert undone["yanked"] is False and undone["yank_reason"] is None, undone
    assert govstore.json("info", NAME)["latest"] == VERSION
    res = govstore.fail("yank", ref, "--undo")
    assert "not yanked" in errors_of(res), res.describe()

    # -- Every change is in the audit log.
    actions = [(e["action"], e["target"]) for e in audit_events(reg)]
    for expected in [
        ("key.register", NS),
        ("version.publish", ref),
        ("version.yank", ref),
        ("version.unyank", ref),
    ]:
        assert expected in actions, (expected, actions)
    assert [e["digest"] for e in publishes_of(reg, ref)] == [digest]


# ---------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------


def test_publish_refused_without_scope_or_role(signed_registry, govstore, work_dir):
    """A token without `publish:NS`, and a user of another organisation, cannot
    publish into the namespace; nothing becomes visible."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    pkg = copy_package(PKG, work_dir / "pkg")
    digest = govstore.json("publish", pkg, "--dry-run")["digest"]

    # alice's own token, but with only `yank:` and `keys:` scopes.
    no_publish = reg.create_token("alice", f"yank:{NS}", f"keys:{NS}")
    res = govstore.fail("publish", pkg, "--key", alice.key, token=no_publish)
    assert "DENIED" in res.stderr and f"publish:{NS}" in errors_of(res), res.describe()
    assert_version_invisible(reg, NAME, VERSION, digest)

    # A token for a glob that does not cover the namespace.
    other_glob = reg.create_token("alice", "publish:x-road*")
    res = govstore.fail("publish", pkg, "--key", alice.key, token=other_glob)
    assert "DENIED" in res.stderr and f"publish:{NS}" in errors_of(res), res.describe()
    assert_version_invisible(reg, NAME, VERSION, digest)

    # bob owns another organisation; his token's scopes cover every namespace, his role
    # does not, and his own key is registered only for his namespace.
    bob_cli = govstore.as_user(work_dir / "bob-config")
    bob = bootstrap_publisher(reg, bob_cli, work_dir, user="bob", namespace="bobco")
    wide = reg.create_token("bob", "publish:*", "keys:*")
    for key in (bob.key, alice.key):
        res = bob_cli.fail("publish", pkg, "--key", key, token=wide)
        assert "DENIED" in res.stderr, res.describe()
        assert f"bob is not an owner or publisher of organisation `{NS}`" in errors_of(res), res.describe()
        assert_version_invisible(reg, NAME, VERSION, digest)
    # Nor may bob register his key for alice's namespace.
    res = bob_cli.fail("key", "register", "--namespace", NS, "--key", bob.pub, token=wide)
    assert "DENIED" in res.stderr, res.describe()
    assert [k["key_id"] for k in govstore.json("key", "list", NS)["keys"]] == [alice.key_id]

    # A revoked token (revoked by its visible prefix) is refused as such.
    revoked_token = reg.create_token("alice", f"publish:{NS}")
    reg.admin("revoke-token", revoked_token[: len("gvs_") + 8])
    res = govstore.fail("publish", pkg, "--key", alice.key, token=revoked_token)
    assert "UNAUTHORIZED" in res.stderr and "revoked" in errors_of(res), res.describe()
    assert "govstore login" in errors_of(res), res.describe()
    assert_version_invisible(reg, NAME, VERSION, digest)

    assert publishes_of(reg, f"{NAME}@{VERSION}") == []
    # The refusals stored nothing that would stop the rightful publish.
    assert alice.publish(pkg)["digest"] == digest

    # As a `publisher` of alice's organisation, bob may yank but not manage its keys.
    reg.admin("add-member", NS, "bob", "--role", "publisher")
    res = bob_cli.fail("key", "register", "--namespace", NS, "--key", bob.pub, token=wide)
    assert f"bob is not an owner of organisation `{NS}`" in errors_of(res), res.describe()
    res = bob_cli.fail("key", "revoke", NS, alice.key_id, "--reason", "bob says so", token=wide)
    assert f"bob is not an owner of organisation `{NS}`" in errors_of(res), res.describe()
    assert govstore.json("key", "list", NS)["keys"][0]["revoked_at"] is None
    yank_token = reg.create_token("bob", f"yank:{NS}")
    assert bob_cli.json("yank", f"{NAME}@{VERSION}", "--reason", "bob found a bug", token=yank_token)["yanked"]


def test_publish_refused_with_revoked_key(signed_registry, govstore, work_dir):
    """A key revoked with `govstore key revoke` no longer signs for the namespace, both
    when it was the namespace's only key and when another key is active."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    pkg = copy_package(PKG, work_dir / "pkg")
    digest = govstore.json("publish", pkg, "--dry-run")["digest"]

    revoked = govstore.json("key", "revoke", NS, alice.key_id, "--reason", "laptop stolen")
    assert revoked["revoked_at"] and revoked["revoke_reason"] == "laptop stolen", revoked
    [listed] = govstore.json("key", "list", NS)["keys"]
    assert listed["key_id"] == alice.key_id and listed["revoked_at"] and listed["revoke_reason"] == "laptop stolen"
    assert "revoked" in govstore.run("key", "list", NS).text

    res = govstore.fail("publish", pkg, "--key", alice.key)
    assert "revoked" in errors_of(res), res.describe()
    assert_version_invisible(reg, NAME, VERSION, digest)

    # With a second, active key registered, the revoked one is still refused.
    second = work_dir / "second"
    govstore.json("keygen", "--key-out", second / "cosign.key", "--pub-out", second / "cosign.pub")
    govstore.json("key", "register", "--namespace", NS, "--key", second / "cosign.pub", "--name", "second")
    res = govstore.fail("publish", pkg, "--key", alice.key)
    assert "SIGNATURE_INVALID" in res.stderr and "revoked" in errors_of(res), res.describe()
    assert_version_invisible(reg, NAME, VERSION, digest)
    assert publishes_of(reg, f"{NAME}@{VERSION}") == []

    # The active key publishes the same bytes.
    assert alice.publish(pkg, key=second / "cosign.key")["digest"] == digest


def test_publish_refused_for_existing_version(signed_registry, govstore, work_dir):
    """Versions are immutable: other bytes under a published version are refused and the
    published version is unchanged."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    first = alice.publish(copy_package(PKG, work_dir / "pkg"))

    changed = copy_package(PKG, work_dir / "changed")
    with open(changed / "README.md", "a") as f:
        f.write("\nA change after the release.\n")
    changed_digest = govstore.json("publish", changed, "--dry-run")["digest"]
    assert changed_digest != first["digest"]

    res = govstore.fail("publish", changed, "--key", alice.key)
    assert "VERSION_EXISTS" in res.stderr, res.describe()
    assert f"{NAME}@{VERSION} is already published" in errors_of(res), res.describe()
    assert "hint: " in res.stderr and "package.version" in errors_of(res), res.describe()
    # The same bytes again: refused as well.
    res = govstore.fail("publish", work_dir / "pkg", "--key", alice.key)
    assert "already published" in errors_of(res), res.describe()

    r = get_manifest(reg, NAME, VERSION)
    assert r.status_code == 200 and r.headers["Docker-Content-Digest"] == first["digest"]
    assert get_manifest(reg, NAME, changed_digest).status_code == 404
    assert get_manifest(reg, NAME, changed_digest.replace(":", "-") + ".sig").status_code == 404
    [v] = govstore.json("info", NAME)["versions"]
    assert v["digest"] == first["digest"] and v["signature_digest"] == first["signature_digest"], v
    assert [e["digest"] for e in publishes_of(reg, f"{NAME}@{VERSION}")] == [first["digest"]]


def test_publish_refused_for_unknown_spec_version(signed_registry, govstore, work_dir):
    """A package claiming a version of a spec that the registry does not know is refused
    with the manifest field named."""
    reg = signed_registry
    bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    pkg = copy_package(PKG, work_dir / "pkg", implements_version="9.9.9")
    digest = govstore.json("publish", pkg, "--dry-run")["digest"]

    res = govstore.fail("publish", pkg, "--key", work_dir / "keys-alice" / "cosign.key")
    errors = errors_of(res)
    assert "implements[0].version" in errors, res.describe()
    assert "9.9.9" in errors and "govstack/identity" in errors, res.describe()
    assert "1.0.2" in errors, f"the known versions are not listed\n{res.describe()}"
    assert_version_invisible(reg, NAME, VERSION, digest)
    assert publishes_of(reg, f"{NAME}@{VERSION}") == []


def test_publish_refused_for_symlink_outside(signed_registry, govstore, work_dir):
    """A symbolic link out of the package directory is refused by the CLI before
    anything is uploaded, with a hint how to leave it out."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    pkg = copy_package(PKG, work_dir / "pkg")
    secret = work_dir / "secret.txt"
    secret.write_text("not for publishing\n")
    (pkg / "deploy" / "escape").symlink_to(secret)

    log_before = reg.log_path.stat().st_size
    for extra in ([], ["--dry-run"]):
        res = govstore.fail("publish", pkg, "--key", alice.key, *extra)
        errors = errors_of(res)
        assert "deploy/escape" in errors and "outside the package directory" in errors, res.describe()
        assert "hint: " in res.stderr and 'exclude = ["deploy/escape"]' in errors, res.describe()
        assert "uploading" not in res.stderr, res.describe()
    new_log = reg.log_path.read_bytes()[log_before:].decode(errors="replace")
    assert "/blobs/uploads" not in new_log and "/versions" not in new_log, new_log[-2000:]
    assert_version_invisible(reg, NAME, VERSION)

    # A relative link that stays inside is packed and published.
    (pkg / "deploy" / "escape").unlink()
    (pkg / "deploy" / "readme-link").symlink_to("../README.md")
    alice.publish(pkg)
    report = govstore.json("verify", f"{NAME}@{VERSION}")
    assert report["content"]["symlinks"] == 1, report


# ---------------------------------------------------------------------------------------
# Tampering and revocation after publishing
# ---------------------------------------------------------------------------------------


def blob_file(registry, digest: str) -> Path:
    hexpart = digest.split(":", 1)[1]
    return registry.data_dir / "blobs" / "sha256" / hexpart[:2] / hexpart


def test_verify_detects_tampered_blob(signed_registry, govstore, work_dir):
    """Bytes changed on the server's disk after publishing: verify names the blob and
    the digest the registry sent instead."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    alice.publish(copy_package(PKG, work_dir / "pkg"))
    ref = f"{NAME}@{VERSION}"
    report = govstore.json("verify", ref)
    [content] = [b for b in report["blobs"] if b["role"] == "content"]

    path = blob_file(reg, content["digest"])
    assert path.is_file(), f"no blob file at {path}"
    data = bytearray(path.read_bytes())
    assert sha256_digest(bytes(data)) == content["digest"]
    data[len(data) // 2] ^= 0xFF  # same size, one byte flipped
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    tampered = sha256_digest(bytes(data))

    res = govstore.fail("verify", ref)
    errors = errors_of(res)
    assert content["digest"] in errors and tampered in errors, res.describe()
    assert "digest" in errors, res.describe()
    assert "verified" not in res.text, res.describe()
    res = govstore.fail("verify", ref, json_out=True)
    assert res.text.strip() == "", f"--json printed a report for a failed verification\n{res.describe()}"


def test_verify_refuses_signature_of_revoked_key(signed_registry, govstore, work_dir):
    """After its key is revoked, a published version no longer verifies, and verify says
    which key was revoked, when and why."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    alice.publish(copy_package(PKG, work_dir / "pkg"))
    ref = f"{NAME}@{VERSION}"
    govstore.run("verify", ref)

    reason = "key left on a shared laptop"
    revoked = govstore.json("key", "revoke", NS, alice.key_id, "--reason", reason)
    res = govstore.fail("verify", ref)
    errors = errors_of(res)
    assert f"{ref} failed verification" in errors, res.describe()
    assert alice.key_id in errors and "revoked" in errors and reason in errors, res.describe()
    assert revoked["revoked_at"] in errors, res.describe()
    assert f"govstore key list {NS}" in errors, res.describe()
    assert "verified" not in res.text

    # A new key does not make the old signature valid again.
    new = work_dir / "new"
    govstore.json("keygen", "--key-out", new / "cosign.key", "--pub-out", new / "cosign.pub")
    govstore.json("key", "register", "--namespace", NS, "--key", new / "cosign.pub")
    res = govstore.fail("verify", ref)
    assert "revoked" in errors_of(res) and alice.key_id in errors_of(res), res.describe()


# ---------------------------------------------------------------------------------------
# Races
# ---------------------------------------------------------------------------------------


def test_concurrent_publishes_of_one_version(signed_registry, govstore, work_dir):
    """Twenty `govstore publish` processes of the same new version: exactly one wins, the
    others are told the version exists, and the registry holds one consistent version."""
    reg = signed_registry
    alice = bootstrap_publisher(reg, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    pkg = copy_package(PKG, work_dir / "pkg", version="1.9.0")
    ref = f"{NAME}@1.9.0"
    digest = govstore.json("publish", pkg, "--dry-run")["digest"]

    procs = [govstore.popen("publish", pkg, "--key", alice.key) for _ in range(20)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        results.append((p.returncode, out.decode(errors="replace"), err.decode(errors="replace")))
    summary = "\n\n".join(f"exit {rc}\n{out}{err}" for rc, out, err in results)
    winners = [r for r in results if r[0] == 0]
    assert len(winners) == 1, f"{len(winners)} publishes succeeded\n{summary}"
    assert f"published {NAME} 1.9.0" in winners[0][1] and digest in winners[0][1], summary
    for rc, out, err in results:
        if rc != 0:
            assert rc == 1, summary
            assert f"{ref} is already published" in err, f"a loser failed otherwise\n{summary}"

    [v] = govstore.json("info", NAME)["versions"]
    assert v["version"] == "1.9.0" and v["digest"] == digest, v
    tags = requests.get(reg.v2(f"{NAME}/tags/list"), timeout=10).json()["tags"]
    assert sorted(tags) == sorted(["1.9.0", digest.replace(":", "-") + ".sig"]), tags
    referrers = requests.get(reg.v2(f"{NAME}/referrers/{digest}"), timeout=10).json()["manifests"]
    assert [m["digest"] for m in referrers] == [v["signature_digest"]], referrers
    assert govstore.json("verify", ref)["signature_digest"] == v["signature_digest"]
    assert len(publishes_of(reg, ref)) == 1
