"""`govstore resolve`, `install`, `outdated` and `update` against `serve --demo`.

The real binaries on both databases: the example stacks in catalog-examples are resolved
against the demo catalogue, their lockfiles installed and checked file by file against
the package directories they were published from, installed again offline, and then the
registry's storage is tampered with (a content blob, a signature payload, the signature
itself, a replayed signature) to show that install refuses and leaves DIR as it was.

One demo registry per backend serves the whole module (``demo_registry``). The tests that
tamper with its blob files or its database put the original bytes and rows back in a
``finally`` and check that they did. Every test has its own GOVSTORE_CACHE_DIR, and every
tampered install gets a fresh one, so nothing cached can hide a tamper.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sqlite3
import subprocess
import tomllib
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from e2e_helpers import CATALOG, COSIGN_SIGNATURE_ANNOTATION, OCI_MANIFEST, errors_of, sha256_digest, spki_key_id

LOCKFILE = "govstore.lock"
RECEIPT = ".govstore-receipt.json"
CONTENT_LAYER = "content.tar.gz"

# What each example stack resolves to (as the comments in the stack files say), or None
# for the stack that cannot be resolved.
EXPECTED = {
    "stack-xroad-mosip-kubernetes.toml": {
        "igrant/consent": "2024.2.1",
        "mifos/ph-ee-govstack": "1.1.0",
        "mosip/esignet": "1.8.0",
        "x-road/security-server": "7.8.0",
    },
    "stack-greenfield-vms.toml": {
        "mosip/esignet": "1.8.0",
        "openspp/openspp": "1.2.1",
        "rapidpro/rapidpro": "9.0.0",
        "x-road/security-server": "7.8.0",
    },
    "stack-no-copyleft.toml": None,
}
XROAD_STACK = "stack-xroad-mosip-kubernetes.toml"
GREENFIELD_STACK = "stack-greenfield-vms.toml"
NO_COPYLEFT_STACK = "stack-no-copyleft.toml"


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def source_dirs() -> dict[tuple[str, str], Path]:
    """(name, version) -> the catalog-examples directory the demo published it from."""
    out = {}
    for d in CATALOG.iterdir():
        manifest = d / "govstore.toml"
        if manifest.is_file():
            pkg = tomllib.loads(manifest.read_text())["package"]
            out[(pkg["name"], pkg["version"])] = d
    return out


def _glob_regex(pattern: str) -> re.Pattern:
    """A `package.include`/`exclude` glob as `client/src/pack.rs` reads it: `*` and `?`
    stay inside a path component, `**` crosses them, and a pattern that matches a
    directory covers everything inside it."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "(?:/.*)?")


def packed_files(src: Path) -> dict[str, bytes]:
    """What publishing SRC puts in the content layer: every file (minus `.git`), or
    what `package.include` matches, minus what `package.exclude` matches."""
    pkg = tomllib.loads((src / "govstore.toml").read_text())["package"]
    include = [_glob_regex(p.rstrip("/")) for p in pkg.get("include", [])]
    exclude = [_glob_regex(p.rstrip("/")) for p in pkg.get("exclude", [])]
    out = {}
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d != ".git"]
        for f in files:
            rel = (Path(root) / f).relative_to(src).as_posix()
            if include and not any(r.fullmatch(rel) for r in include):
                continue
            if any(r.fullmatch(rel) for r in exclude):
                continue
            out[rel] = (Path(root) / f).read_bytes()
    return out


def files_under(d: Path) -> dict[str, bytes]:
    out = {}
    for root, _dirs, files in os.walk(d):
        for f in files:
            p = Path(root) / f
            assert not p.is_symlink(), f"{p} is a link"
            out[p.relative_to(d).as_posix()] = p.read_bytes()
    return out


def snapshot(d: Path) -> dict[str, tuple]:
    """Every entry under D (D included) with its type, mode, mtime and bytes: equal
    snapshots mean nothing was written, renamed, added or removed."""
    if not d.exists():
        return {}
    out = {}
    for root, dirs, files in os.walk(d):
        for name in [".", *dirs, *files]:
            p = Path(root) / name if name != "." else Path(root)
            st = p.lstat()
            data = p.read_bytes() if p.is_file() and not p.is_symlink() else None
            out[p.relative_to(d).as_posix()] = (st.st_mode, st.st_mtime_ns, st.st_size, data)
    return out


def leftovers_beside(d: Path) -> list[str]:
    """Staging directories of an install into D left in its parent."""
    return sorted(p.name for p in d.parent.iterdir() if p.name.startswith(f".{d.name}.govstore-staging-"))


def read_lock(path: Path) -> dict:
    return tomllib.loads(path.read_text())


def locked(lock: dict) -> dict[str, dict]:
    return {p["name"]: p for p in lock["package"]}


def get_manifest(reg, repo: str, reference: str) -> tuple[bytes, dict]:
    r = requests.get(reg.v2(f"{repo}/manifests/{reference}"), headers={"Accept": OCI_MANIFEST}, timeout=10)
    assert r.status_code == 200, (repo, reference, r.status_code, r.text[:300])
    return r.content, r.json()


def content_layer(reg, name: str, digest: str) -> dict:
    _, doc = get_manifest(reg, name, digest)
    title = "org.opencontainers.image.title"
    [layer] = [l for l in doc["layers"] if l.get("annotations", {}).get(title) == CONTENT_LAYER]
    return layer


def signature_manifest(reg, name: str, digest: str) -> tuple[bytes, dict]:
    return get_manifest(reg, name, digest.replace(":", "-") + ".sig")


def blob_path(reg, digest: str) -> Path:
    algo, hexpart = digest.split(":", 1)
    path = reg.data_dir / "blobs" / algo / hexpart[:2] / hexpart
    assert path.is_file(), f"no blob file {path}"
    return path


def api_version(reg, name: str, version: str) -> dict:
    r = requests.get(reg.api(f"packages/{name}"), timeout=10)
    assert r.status_code == 200, r.text
    [v] = [v for v in r.json()["versions"] if v["version"] == version]
    return v


def index_version(reg, name: str, version: str) -> dict:
    r = requests.get(reg.api(f"index/packages/{name}"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers.get("ETag"), r.headers
    [v] = [v for v in r.json()["versions"] if v["version"] == version]
    return v


@contextlib.contextmanager
def replaced_file(path: Path, data: bytes):
    """Writes DATA over PATH in place, as corruption on the server's disk would; puts
    the original bytes (and mode) back afterwards."""
    original, mode = path.read_bytes(), path.stat().st_mode
    try:
        path.chmod(0o644)
        path.write_bytes(data)
        yield original
    finally:
        path.write_bytes(original)
        path.chmod(mode)
        assert path.read_bytes() == original


# The database of a shared demo registry, edited as an attacker with database access
# would. SQL literals are built here from digests, numbers and bytes only.


def _sql_literal(backend: str, value) -> str:
    if isinstance(value, bytes):
        return f"X'{value.hex()}'" if backend == "sqlite" else f"'\\x{value.hex()}'::bytea"
    if isinstance(value, int):
        return str(value)
    assert re.fullmatch(r"[A-Za-z0-9:._/+-]*", value), value
    return f"'{value}'"


def db_exec(reg, statements: list[tuple[str, tuple]]) -> None:
    """Runs (sql, params) statements in one transaction; `?` marks a parameter."""
    if reg.backend == "sqlite":
        with contextlib.closing(sqlite3.connect(reg.data_dir / "govstore.db", timeout=30)) as db:
            with db:
                for sql, params in statements:
                    db.execute(sql, params)
        return
    script = ["BEGIN;"]
    for sql, params in statements:
        parts = sql.split("?")
        assert len(parts) == len(params) + 1, sql
        text = parts[0] + "".join(_sql_literal(reg.backend, p) + rest for p, rest in zip(params, parts[1:]))
        script.append(text + ";")
    script.append("COMMIT;")
    subprocess.run(
        ["psql", reg.database_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", "\n".join(script)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextlib.contextmanager
def signature_swapped(reg, name: str, version: str, digest: str, new_sig_manifest: bytes):
    """Points the cosign tag of NAME@VERSION (manifest DIGEST) and its version row at
    another signature manifest, NEW_SIG_MANIFEST: an existing one if the repository
    has it, else the current signature manifest's row rewritten to hold it under its
    own, correct digest. What the registry then serves is self-consistent (every
    manifest and blob matches its digest, the API lists the new signature digest), so
    only checking the signature and what it signs can catch it. Restored afterwards."""
    tag = digest.replace(":", "-") + ".sig"
    old_bytes, _ = signature_manifest(reg, name, digest)
    old_digest = sha256_digest(old_bytes)
    new_digest = sha256_digest(new_sig_manifest)
    repo = "(SELECT id FROM repositories WHERE name = ?)"
    rewrite_row = new_digest != old_digest and not _stored(reg, name, new_digest)

    def point(frm: str, to: str, content: bytes | None) -> list:
        stmts = []
        if content is not None:
            sql = f"UPDATE manifests SET content = ?, digest = ?, size = ? WHERE repository_id = {repo} AND digest = ?"
            stmts.append((sql, (content, to, len(content), name, frm)))
        sql = f"UPDATE tags SET manifest_digest = ? WHERE repository_id = {repo} AND name = ?"
        stmts.append((sql, (to, name, tag)))
        stmts.append(("UPDATE package_versions SET signature_digest = ? WHERE manifest_digest = ?", (to, digest)))
        return stmts

    db_exec(reg, point(old_digest, new_digest, new_sig_manifest if rewrite_row else None))
    try:
        served, _ = signature_manifest(reg, name, digest)
        assert served == new_sig_manifest, "the registry does not serve the swapped signature"
        yield
    finally:
        db_exec(reg, point(new_digest, old_digest, old_bytes if rewrite_row else None))
        restored, _ = signature_manifest(reg, name, digest)
        assert restored == old_bytes, "the original signature manifest was not restored"
        assert api_version(reg, name, version)["signature_digest"] == old_digest


def _stored(reg, name: str, digest: str) -> bool:
    r = requests.head(reg.v2(f"{name}/manifests/{digest}"), headers={"Accept": OCI_MANIFEST}, timeout=10)
    return r.status_code == 200


class Stacks:
    """Resolves example stacks (each in a directory of its own) for one test."""

    def __init__(self, reg, govstore, work: Path):
        self.reg, self.govstore, self.work = reg, govstore, work

    def resolve(self, stack: str) -> Path:
        """`govstore resolve --stack catalog-examples/STACK` in a directory named after
        the stack; returns the lockfile it wrote."""
        d = self.work / Path(stack).stem
        d.mkdir(parents=True, exist_ok=True)
        self.govstore.run("resolve", "--stack", CATALOG / stack, registry=self.reg.url, cwd=d)
        lock = d / LOCKFILE
        assert lock.is_file(), f"resolve wrote no {lock}"
        return lock


@pytest.fixture
def stacks(demo_registry, govstore, work_dir) -> Stacks:
    return Stacks(demo_registry, govstore, work_dir)


def assert_installed(reg, into: Path, lock_path: Path) -> dict:
    """DIR holds exactly the locked packages, each with the files (bytes) of the
    directory it was published from, and a receipt naming their digests. Returns the
    receipt."""
    lock = read_lock(lock_path)
    sources = source_dirs()
    receipt = json.loads((into / RECEIPT).read_text())
    # The receipt hashes the lockfile's canonical text, which is what resolve writes.
    assert receipt["lock_hash"] == sha256_digest(lock_path.read_bytes()), receipt
    by_name = {p["name"]: p for p in receipt["packages"]}
    assert sorted(by_name) == sorted(locked(lock)), (receipt, lock)
    top = sorted(p.name for p in into.iterdir())
    assert top == sorted([RECEIPT, *{n.split("/")[0] for n in by_name}]), top
    for name, entry in locked(lock).items():
        got = by_name[name]
        assert got["version"] == entry["version"] and got["digest"] == entry["digest"], (got, entry)
        assert got["key_id"] in entry["key_ids"], (got, entry)
        assert got["path"] == name, got
        assert got["content_digest"] == content_layer(reg, name, entry["digest"])["digest"], got
        ns = name.split("/")[0]
        assert sorted(p.name for p in (into / ns).iterdir()) == sorted(
            n.split("/")[1] for n in by_name if n.startswith(ns + "/")
        )
        src = sources[(name, entry["version"])]
        expected, actual = packed_files(src), files_under(into / name)
        assert sorted(actual) == sorted(expected), (name, sorted(actual), sorted(expected))
        for rel, data in expected.items():
            assert actual[rel] == data, f"{name}: {rel} differs from {src / rel}"
            mode = (into / name / rel).stat().st_mode
            assert bool(mode & 0o111) == bool((src / rel).stat().st_mode & 0o111), (name, rel, oct(mode))
    return receipt


# ---------------------------------------------------------------------------------------
# 1. Resolution of the example stacks
# ---------------------------------------------------------------------------------------


def test_example_stacks_are_the_expected_ones():
    assert sorted(p.name for p in CATALOG.glob("stack-*.toml")) == sorted(EXPECTED), (
        "a stack was added or removed in catalog-examples: say in EXPECTED what it resolves to"
    )


@pytest.mark.parametrize("stack", [s for s, e in EXPECTED.items() if e is not None])
def test_resolve_writes_a_lockfile_matching_the_registry(demo_registry, govstore, work_dir, stack):
    reg = demo_registry
    want = EXPECTED[stack]
    d = work_dir / "text"
    d.mkdir()
    res = govstore.run("resolve", "--stack", CATALOG / stack, registry=reg.url, cwd=d)

    # The table names every package to install, with its version and short digest.
    text = res.text
    country = tomllib.loads((CATALOG / stack).read_text())["stack"]["country"]
    assert re.search(rf"^resolved \".+\" \({country}\): {len(want)} packages to install", text, re.M), text
    assert f"wrote {LOCKFILE} ({len(want)} packages)" in text, text
    assert re.search(r"read \d+ index documents from " + re.escape(reg.url), res.stderr), res.describe()

    lock = read_lock(d / LOCKFILE)
    assert lock["version"] == 1 and lock["stack"].startswith("sha256:"), lock
    pkgs = locked(lock)
    assert {n: p["version"] for n, p in pkgs.items()} == want, lock
    assert [p["name"] for p in lock["package"]] == sorted(want), "lockfile not sorted by name"
    for name, p in pkgs.items():
        line = re.search(rf"^\s+{re.escape(name)}\s+{re.escape(p['version'])}\s+(sha256:[0-9a-f]+)", text, re.M)
        assert line and p["digest"].startswith(line[1]), (name, text)
        # Digests and key ids: the lockfile says what the registry's index and API say.
        idx, api = index_version(reg, name, p["version"]), api_version(reg, name, p["version"])
        assert p["digest"] == idx["digest"] == api["digest"], (p, idx, api)
        assert p["key_ids"] == idx["key_ids"] == [api["key_id"]], (p, idx, api)
        assert p["source"] == reg.url, p
        raw, _ = get_manifest(reg, name, p["version"])
        assert sha256_digest(raw) == p["digest"], f"{name}:{p['version']} is not the locked manifest"
    # The demo's signing keys are the ones locked.
    for name, p in pkgs.items():
        ns = name.split("/")[0]
        pem = (reg.data_dir / "demo-keys" / f"{ns}.pub").read_text()
        assert p["key_ids"] == [spki_key_id(pem)], (name, p)

    # --json: the same resolution, machine-readable, and the same lockfile bytes.
    dj = work_dir / "json"
    dj.mkdir()
    out = govstore.json("resolve", "--stack", CATALOG / stack, registry=reg.url, cwd=dj)
    assert out["resolved"] is True and out["lockfile"]["written"] is True, out
    assert out["lockfile"]["stack"] == lock["stack"], out["lockfile"]
    assert {p["name"]: p["version"] for p in out["packages"] if p["install"]} == want, out["packages"]
    for p in out["packages"]:
        assert p["digest"] == pkgs[p["name"]]["digest"] and p["key_ids"] == pkgs[p["name"]]["key_ids"], p
        assert p["why"], p
    assert (dj / LOCKFILE).read_bytes() == (d / LOCKFILE).read_bytes(), "resolution is not deterministic"

    if stack == XROAD_STACK:
        # Identity is met by the running MOSIP ID repository, which is not installed;
        # X-Road 7.5.2 (information mediator 1.0.0) must be upgraded to 7.8.0.
        specs = {s["spec"]: s for s in out["specs"]}
        assert specs["govstack/identity"]["provider"] == {"existing": "national-id-registry"}, specs
        assert specs["govstack/information-mediator"]["provider"] == {
            "package": "x-road/security-server",
            "version": "7.8.0",
        }, specs
        assert "mosip/id-repository" not in pkgs
        assert re.search(r"govstack/identity 1\.0\.2\s+existing system national-id-registry", text), text
        assert "govstack/information-mediator 1.1.1" in text and "x-road/security-server 7.8.0" in text, text


def test_unsatisfiable_stack_is_explained_and_writes_no_lockfile(demo_registry, govstore, work_dir):
    reg = demo_registry
    stack = CATALOG / NO_COPYLEFT_STACK
    d = work_dir / "fresh"
    d.mkdir()
    res = govstore.run("resolve", "--stack", stack, registry=reg.url, cwd=d, check=False)
    assert res.returncode == 1, res.describe()
    assert not (d / LOCKFILE).exists() and sorted(p.name for p in d.iterdir()) == [], list(d.iterdir())
    report = res.stderr
    assert 'error: no set of packages fits the stack "Permissive licences only" (KE)' in report, res.describe()
    # The wanted spec, every implementation the policy removed, the licence, the rule.
    first = report.split("hint:")[0]
    assert "govstack/identity ^1.0" in first, report
    for pkg in ("mosip/esignet 1.7.1 and 1.8.0", "mosip/id-repository 12.2.4"):
        assert pkg in first, (pkg, report)
    assert "MPL-2.0" in first and "copyleft" in first and "licence policy" in first, report
    hints = [l for l in report.splitlines() if l.startswith("hint: ")]
    assert any("mosip/esignet" in h and "licence policy" in h and "MPL-2.0" in h for h in hints), hints
    assert any("mosip/id-repository" in h and "licence policy" in h for h in hints), hints
    assert not res.text.strip(), "the report goes to stderr, not stdout\n" + res.describe()
    # Plain text: no colour codes, no trailing periods on the hint lines.
    assert "\x1b[" not in report and not any(h.endswith(".") for h in hints), report

    # --json: the same report as JSON on stdout, still exit status 1.
    res = govstore.run("resolve", "--stack", stack, registry=reg.url, cwd=d, json_out=True, check=False)
    assert res.returncode == 1, res.describe()
    out = res.json()
    assert out["resolved"] is False and "MPL-2.0" in out["explanation"], out
    assert any("licence policy" in h for h in out["hints"]), out
    assert not (d / LOCKFILE).exists()

    # An existing lockfile (another stack's) at the lockfile path is left as it was.
    other = work_dir / "other"
    other.mkdir()
    govstore.run("resolve", "--stack", CATALOG / XROAD_STACK, registry=reg.url, cwd=other)
    before = snapshot(other)
    res = govstore.run("resolve", "--stack", stack, registry=reg.url, cwd=other, check=False)
    assert res.returncode == 1 and "no set of packages fits the stack" in res.stderr, res.describe()
    assert snapshot(other) == before, "a failed resolve changed the existing lockfile"


# ---------------------------------------------------------------------------------------
# 2. Install, reinstall, offline install
# ---------------------------------------------------------------------------------------


def test_install_verifies_unpacks_and_reruns_as_a_no_op(demo_registry, govstore, stacks, work_dir):
    reg = demo_registry
    for stack in (XROAD_STACK, GREENFIELD_STACK):
        lock_path = stacks.resolve(stack)
        lock = read_lock(lock_path)
        into = lock_path.parent / "installed"
        # A cache of its own per stack: the two stacks share packages.
        gs = govstore.with_cache(work_dir / f"cache-{Path(stack).stem}")

        res = gs.run("install", "--lock", lock_path, "--into", into)
        n = len(EXPECTED[stack])
        text = res.text
        assert f"installed {n} packages into {into}" in text, res.describe()
        for name, p in locked(lock).items():
            row = rf"^\s+{re.escape(name)}\s+{re.escape(p['version'])}\s+{p['digest'][:19]}\s+signed by sha256:"
            assert re.search(row, text, re.M), text
        summary = r"blobs: \d+ downloaded \(.+\), 0 from the local cache, every digest and signature checked"
        assert re.search(summary, text), text
        assert "offline" not in text
        assert_installed(reg, into, lock_path)
        assert leftovers_beside(into) == []

        # Again: nothing to do, nothing written (bytes, modes and mtimes all equal).
        before = snapshot(into)
        res = gs.run("install", "--lock", lock_path, "--into", into)
        assert res.text == f"{into} is up to date with {lock_path} ({n} packages); nothing to do\n", res.describe()
        again = gs.json("install", "--lock", lock_path, "--into", into)
        assert again["up_to_date"] is True and again["installed"] == [] and again["downloaded_blobs"] == 0, again
        assert snapshot(into) == before, "a no-op install changed DIR"
        assert leftovers_beside(into) == []


def test_offline_install_from_the_cache(demo_registry, govstore, stacks, work_dir):
    lock_path = stacks.resolve(XROAD_STACK)
    n = len(EXPECTED[XROAD_STACK])
    first = lock_path.parent / "online"
    report = govstore.json("install", "--lock", lock_path, "--into", first)
    assert report["downloaded_blobs"] > 0 and report["revocation_checked"] is True, report

    # The same lockfile naming a registry nobody listens on: online, install cannot
    # reach it (so the offline installs below cannot have used the network).
    dead = "http://127.0.0.1:9"
    bogus = lock_path.parent / "unreachable.lock"
    bogus.write_text(lock_path.read_text().replace(demo_registry.url, dead))
    assert read_lock(bogus)["package"][0]["source"] == dead
    res = govstore.fail("install", "--lock", bogus, "--into", lock_path.parent / "nope")
    assert "cannot reach the registry at http://127.0.0.1:9" in errors_of(res), res.describe()
    assert not (lock_path.parent / "nope").exists()

    offline = lock_path.parent / "offline"
    res = govstore.run("install", "--lock", bogus, "--into", offline, "--offline", "--registry", dead)
    assert f"installed {n} packages into {offline}" in res.text, res.describe()
    assert re.search(r"blobs: 0 downloaded \(0 B\), \d+ from the local cache", res.text), res.text
    assert "note: offline, so key revocations were not checked" in res.text, res.text
    online_files, offline_files = files_under(first), files_under(offline)
    assert offline_files.keys() == online_files.keys()
    assert {k: v for k, v in offline_files.items() if k != RECEIPT} == {
        k: v for k, v in online_files.items() if k != RECEIPT
    }
    assert_installed(demo_registry, offline, bogus)

    # An empty cache: nothing to install from, and DIR is not created.
    empty = govstore.with_cache(work_dir / "empty-cache")
    res = empty.fail("install", "--lock", bogus, "--into", work_dir / "never", "--offline")
    assert "offline" in errors_of(res) and "cache" in errors_of(res), res.describe()
    assert not (work_dir / "never").exists() and leftovers_beside(work_dir / "never") == []

    # A corrupted cache entry is noticed (re-hashed on use), never installed.
    content = report["receipt"]["packages"][0]["content_digest"]
    hexpart = content.split(":")[1]
    cached = govstore.cache_dir / "blobs" / "sha256" / hexpart[:2] / hexpart
    assert cached.is_file(), f"no cached blob at {cached}"
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cached.write_bytes(bytes(data))
    res = govstore.fail("install", "--lock", bogus, "--into", work_dir / "corrupt", "--offline")
    assert content in errors_of(res), res.describe()
    assert not (work_dir / "corrupt").exists()


# ---------------------------------------------------------------------------------------
# 3. Tampering on the server
# ---------------------------------------------------------------------------------------


def _fresh(govstore, work_dir: Path, label: str):
    """The CLI with a new, empty local cache."""
    return govstore.with_cache(work_dir / f"cache-{label}")


def _assert_refused(res, into: Path, before: dict, *needles: str) -> str:
    errors = errors_of(res)
    for needle in needles:
        assert needle in errors, (needle, res.describe())
    assert f"hint: {into} was not changed" in errors, res.describe()
    assert snapshot(into) == before, f"{into} changed although install failed"
    assert leftovers_beside(into) == [], leftovers_beside(into)
    return errors


def test_tampered_content_blob_fails_install(demo_registry, govstore, stacks, work_dir):
    reg = demo_registry
    lock_path = stacks.resolve(XROAD_STACK)
    pkgs = locked(read_lock(lock_path))
    esignet = pkgs["mosip/esignet"]
    layer = content_layer(reg, "mosip/esignet", esignet["digest"])
    path = blob_path(reg, layer["digest"])
    original = path.read_bytes()
    assert sha256_digest(original) == layer["digest"] and len(original) == layer["size"]

    # (a) Same size, one byte changed: the digest check catches it.
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0xFF
    new_dir = work_dir / "new"
    with replaced_file(path, bytes(flipped)):
        res = _fresh(govstore, work_dir, "flip").fail("install", "--lock", lock_path, "--into", new_dir)
        errors = _assert_refused(
            res, new_dir, {}, "mosip/esignet@1.8.0", layer["digest"], sha256_digest(bytes(flipped))
        )
        assert "changed after publishing or corrupted" in errors, errors
        assert not new_dir.exists()

    # (b) Truncated: the size check catches it.
    with replaced_file(path, original[:-10]):
        res = _fresh(govstore, work_dir, "short").fail("install", "--lock", lock_path, "--into", new_dir)
        _assert_refused(
            res, new_dir, {}, "mosip/esignet@1.8.0", f"should be {len(original)} bytes", f"sent {len(original) - 10}"
        )
        assert not new_dir.exists()

    # (c) An existing DIR (another stack installed) that the new lockfile would change:
    # igrant/consent's content is corrupted, so nothing at all may change in DIR, not
    # even the packages that verified or the ones the new lockfile drops.
    existing = work_dir / "existing"
    green = stacks.resolve(GREENFIELD_STACK)
    govstore.run("install", "--lock", green, "--into", existing)
    before = snapshot(existing)
    consent = content_layer(reg, "igrant/consent", pkgs["igrant/consent"]["digest"])
    cpath = blob_path(reg, consent["digest"])
    cbytes = bytearray(cpath.read_bytes())
    cbytes[-5] ^= 0x01
    with replaced_file(cpath, bytes(cbytes)):
        res = _fresh(govstore, work_dir, "existing").fail("install", "--lock", lock_path, "--into", existing)
        _assert_refused(res, existing, before, "igrant/consent@2024.2.1", consent["digest"])

    # Restored: the same install goes through.
    govstore.run("install", "--lock", lock_path, "--into", existing)
    assert_installed(reg, existing, lock_path)


def test_tampered_signature_fails_install(demo_registry, govstore, stacks, work_dir):
    reg = demo_registry
    lock_path = stacks.resolve(XROAD_STACK)
    pkgs = locked(read_lock(lock_path))
    name, entry = "mosip/esignet", pkgs["mosip/esignet"]
    sig_bytes, sig_doc = signature_manifest(reg, name, entry["digest"])
    [sig_layer] = sig_doc["layers"]
    payload_path = blob_path(reg, sig_layer["digest"])
    payload = payload_path.read_bytes()
    assert json.loads(payload)["critical"]["image"]["docker-manifest-digest"] == entry["digest"]

    # DIR as it is before an upgrade: the same stack with mosip/esignet pinned to 1.7.1.
    # (Packages whose digest DIR's receipt already lists are not fetched again, so the
    # tampered package must be one the install would change.)
    existing = work_dir / "existing"
    pinned_dir = work_dir / "pinned"
    pinned_dir.mkdir()
    write_pinned_stack(pinned_dir / "stack.toml")
    govstore.run("resolve", "--stack", pinned_dir / "stack.toml", registry=reg.url, cwd=pinned_dir)
    assert locked(read_lock(pinned_dir / LOCKFILE))[name]["version"] == "1.7.1"
    govstore.run("install", "--lock", pinned_dir / LOCKFILE, "--into", existing)
    before = snapshot(existing)
    new_dir = work_dir / "new"

    def refused(label: str, *needles: str) -> str:
        for into, snap in ((new_dir, {}), (existing, before)):
            cli = _fresh(govstore, work_dir, f"{label}-{into.name}")
            res = cli.fail("install", "--lock", lock_path, "--into", into)
            errors = _assert_refused(res, into, snap, f"{name}@{entry['version']}", *needles)
        return errors

    # (a) The signed payload's bytes on disk replaced (same length, naming another
    # digest): the payload no longer has its digest.
    other = payload.replace(entry["digest"].encode(), ("sha256:" + "0" * 64).encode())
    assert other != payload and len(other) == len(payload)
    with replaced_file(payload_path, other):
        refused("payload", sig_layer["digest"])

    # (b) A forged signature: the same payload signed by a key that is not the
    # namespace's, in a signature manifest stored under its own correct digest (as an
    # attacker with database access would leave it).
    attacker = ec.generate_private_key(ec.SECP256R1())
    forged_doc = json.loads(sig_bytes)
    forged_doc["layers"][0]["annotations"][COSIGN_SIGNATURE_ANNOTATION] = base64.b64encode(
        attacker.sign(payload, ec.ECDSA(hashes.SHA256()))
    ).decode()
    forged = json.dumps(forged_doc, separators=(",", ":")).encode()
    with signature_swapped(reg, name, entry["version"], entry["digest"], forged):
        refused("forged", "the signature does not verify against any key of namespace `mosip`")

    # (c) Replayed signatures: mosip/esignet 1.7.1's genuine signature (same key, same
    # repository) presented for 1.8.0, first as its whole signature manifest (whose
    # subject is 1.7.1), then its signed payload and signature inside a manifest whose
    # subject says 1.8.0. The signature verifies; what it signs is another manifest.
    old = index_version(reg, name, "1.7.1")["digest"]
    replay, replay_doc = signature_manifest(reg, name, old)
    with signature_swapped(reg, name, entry["version"], entry["digest"], replay):
        errors = refused("replay", old, entry["digest"])
        assert "subject" in errors, errors
    spliced_doc = json.loads(sig_bytes)
    spliced_doc["layers"] = replay_doc["layers"]
    spliced = json.dumps(spliced_doc, separators=(",", ":")).encode()
    with signature_swapped(reg, name, entry["version"], entry["digest"], spliced):
        errors = refused("spliced", f"the signature covers manifest {old}, not {entry['digest']}")

    # Everything restored: a fresh install verifies again.
    res = _fresh(govstore, work_dir, "after").run("install", "--lock", lock_path, "--into", new_dir)
    assert "every digest and signature checked" in res.text, res.describe()
    assert_installed(reg, new_dir, lock_path)


# ---------------------------------------------------------------------------------------
# 4. outdated and update
# ---------------------------------------------------------------------------------------


def write_pinned_stack(path: Path) -> str:
    """Writes the X-Road + MOSIP stack with `mosip/esignet` pinned to 1.7.1 to PATH;
    returns the original stack's text."""
    original = (CATALOG / XROAD_STACK).read_text()
    pinned = original.rstrip("\n") + '\npins = { "mosip/esignet" = "1.7.1" }\n'
    assert tomllib.loads(pinned)["wants"]["pins"] == {"mosip/esignet": "1.7.1"}
    path.write_text(pinned)
    return original


def test_outdated_and_update_move_an_old_pin(demo_registry, govstore, work_dir):
    reg = demo_registry
    stack = work_dir / "stack.toml"
    original = write_pinned_stack(stack)
    lock_path = work_dir / LOCKFILE

    def gs(*args, **kw):
        return govstore.run(*args, "--stack", stack, registry=reg.url, cwd=work_dir, **kw)

    gs("resolve")
    old = locked(read_lock(lock_path))
    assert old["mosip/esignet"]["version"] == "1.7.1", old
    assert old["mosip/esignet"]["digest"] == api_version(reg, "mosip/esignet", "1.7.1")["digest"]
    into = work_dir / "installed"
    govstore.run("install", "--lock", lock_path, "--into", into)
    assert "1.7.1" in (into / "mosip/esignet/govstore.toml").read_text()

    # While the pin stands, 1.8.0 exists but does not fit.
    res = gs("outdated")
    row = re.search(r"^\s+mosip/esignet\s+1\.7\.1\s+1\.7\.1\s+1\.8\.0\s+(.+)$", res.text, re.M)
    assert row and "do not fit the stack" in row[1], res.describe()

    # The country drops the pin: 1.8.0 is compatible, `outdated` says so (and that the
    # stack changed since the lockfile was written).
    stack.write_text(original)
    res = gs("outdated")
    assert f"changed since {LOCKFILE} was written" in res.stderr, res.describe()
    row = re.search(r"^\s+mosip/esignet\s+1\.7\.1\s+1\.8\.0\s+1\.8\.0\s+(.+)$", res.text, re.M)
    assert row and "govstore update" in row[1], res.describe()
    rows = {r["name"]: r for r in gs("outdated", json_out=True).json()}
    assert rows["mosip/esignet"] == {
        "name": "mosip/esignet",
        "locked": "1.7.1",
        "compatible": "1.8.0",
        "latest": "1.8.0",
        "locked_yanked": None,
    }, rows
    others = {n: r for n, r in rows.items() if n != "mosip/esignet"}
    assert all(r["locked"] == r["compatible"] == r["latest"] for r in others.values()), others

    # update --dry-run writes nothing; update moves esignet alone and rewrites the lock.
    before = lock_path.read_bytes()
    res = gs("update", "--dry-run")
    assert "mosip/esignet 1.7.1 -> 1.8.0" in res.text and "dry run" in res.text, res.describe()
    assert lock_path.read_bytes() == before
    res = gs("update")
    assert "mosip/esignet 1.7.1 -> 1.8.0" in res.text and f"wrote {LOCKFILE} (1 change)" in res.text, res.describe()
    new_lock = read_lock(lock_path)
    new = locked(new_lock)
    assert new["mosip/esignet"]["version"] == "1.8.0", new
    assert new["mosip/esignet"]["digest"] == api_version(reg, "mosip/esignet", "1.8.0")["digest"]
    assert {n: p for n, p in new.items() if n != "mosip/esignet"} == {
        n: p for n, p in old.items() if n != "mosip/esignet"
    }
    # The lockfile now records the edited stack: no stale warning, nothing outdated.
    res = gs("outdated")
    assert f"changed since {LOCKFILE} was written" not in res.stderr, res.describe()
    assert "all at the newest compatible and newest published version" in res.text, res.describe()
    assert "up to date" in gs("update").text

    # Installing the updated lockfile swaps esignet in and leaves the others as they were.
    others_before = {n: snapshot(into / n) for n in new if n != "mosip/esignet"}
    out = govstore.json("install", "--lock", lock_path, "--into", into)
    assert out["installed"] == ["mosip/esignet@1.8.0"], out
    kept = sorted(f"{n}@{p['version']}" for n, p in new.items() if n != "mosip/esignet")
    assert sorted(out["unchanged"]) == kept, out
    assert {n: snapshot(into / n) for n in others_before} == others_before
    assert_installed(reg, into, lock_path)
