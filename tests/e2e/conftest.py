"""Fixtures that start a real govstore-server for the end-to-end tests.

Every test that uses the ``registry`` (or ``registry_factory``) fixture runs once per
metadata backend: ``sqlite`` (the embedded default, files in a temp data dir) and
``postgres`` (a fresh database per server start on the local PostgreSQL, dropped
afterwards).

Environment:

- ``GOVSTORE_SERVER_BIN``: the server binary; default
  ``${CARGO_TARGET_DIR:-<repo>/target}/debug/govstore-server``.
- ``GOVSTORE_E2E_BACKENDS``: comma-separated backends to run, default
  ``sqlite,postgres``. ``reference`` runs the tests against Debian's
  ``docker-registry`` (CNCF distribution 2.8) instead, to check the tests themselves;
  tests of features that registry lacks (referrers API, auth policy) skip there.
- ``GOVSTORE_E2E_PG_URL``: PostgreSQL server URL without database name, default
  ``postgres://postgres@127.0.0.1:5432``.
- ``GOVSTORE_E2E_READY_TIMEOUT``: seconds to wait for ``GET /v2/`` to answer 200
  (default 30).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = float(os.environ.get("GOVSTORE_E2E_READY_TIMEOUT", "30"))
PG_URL = os.environ.get("GOVSTORE_E2E_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
LOG_TAIL_LINES = 200

SERVERS_KEY = pytest.StashKey[list]()

# Every request of these tests (requests, skopeo, oras) goes to 127.0.0.1: never via a proxy.
_no_proxy = ",".join(filter(None, ["127.0.0.1", "localhost", os.environ.get("NO_PROXY", "")]))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = _no_proxy


def server_binary() -> Path:
    env = os.environ.get("GOVSTORE_SERVER_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "debug" / "govstore-server"


def backends() -> list[str]:
    raw = os.environ.get("GOVSTORE_E2E_BACKENDS", "sqlite,postgres")
    names = [b.strip() for b in raw.split(",") if b.strip()]
    for name in names:
        if name not in ("sqlite", "postgres", "reference"):
            raise pytest.UsageError(f"GOVSTORE_E2E_BACKENDS: unknown backend {name!r}")
    return names


def server_env() -> dict:
    # Plain log lines in the files the tests show on failure; RUST_LOG passes through.
    return dict(os.environ, NO_COLOR="1")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG_URL}/postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Registry:
    """A running registry process on 127.0.0.1."""

    backend: str
    port: int
    proc: subprocess.Popen
    log_path: Path
    data_dir: Path
    args: list[str]
    database: str | None = None
    flags: dict = field(default_factory=dict)

    @property
    def host(self) -> str:
        """host:port, as OCI clients want it in references."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def v2(self, path: str = "") -> str:
        return f"{self.url}/v2/{path.lstrip('/')}"

    @property
    def is_reference(self) -> bool:
        return self.backend == "reference"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as e:
            return f"<no log: {e}>"
        tail = text.splitlines()[-lines:]
        return "\n".join(tail)

    def restart(self) -> None:
        """Stop and start the same server again (same port, data dir and database)."""
        self.stop()
        with open(self.log_path, "ab") as log:
            log.write(b"\n---- restarted by the test ----\n")
            log.flush()
            self.proc = subprocess.Popen(
                self.args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=server_env()
            )
        _wait_ready(self)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _wait_ready(reg: Registry) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        rc = reg.proc.poll()
        if rc is not None:
            pytest.fail(
                f"{reg.backend} registry exited with status {rc} before it was ready\n"
                f"command: {' '.join(reg.args)}\n--- stderr ---\n{reg.log_tail()}",
                pytrace=False,
            )
        try:
            r = requests.get(reg.v2(), timeout=1)
            if r.status_code == 200:
                return
            last = f"GET /v2/ answered {r.status_code}: {r.text[:200]}"
        except requests.RequestException as e:
            last = f"GET /v2/ failed: {e.__class__.__name__}"
        time.sleep(0.1)
    reg.stop()
    pytest.fail(
        f"{reg.backend} registry not ready after {READY_TIMEOUT:.0f}s ({last})\n"
        f"command: {' '.join(reg.args)}\n--- stderr ---\n{reg.log_tail()}",
        pytrace=False,
    )


def _start_govstore(backend: str, workdir: Path, *, anonymous_push: bool, allow_delete: bool) -> Registry:
    binary = server_binary()
    if not binary.exists():
        pytest.fail(
            f"govstore-server binary not found at {binary}; build it with "
            "`cargo build -p govstore-server` or set GOVSTORE_SERVER_BIN",
            pytrace=False,
        )
    port = free_port()
    data_dir = workdir / "data"
    data_dir.mkdir()
    args = [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir)]
    database = None
    if backend == "postgres":
        database = f"govstore_e2e_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        try:
            psql(f'CREATE DATABASE "{database}"')
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            detail = getattr(e, "stderr", "") or str(e)
            pytest.fail(f"cannot create PostgreSQL database at {PG_URL}: {detail}", pytrace=False)
        args += ["--database-url", f"{PG_URL}/{database}"]
    if anonymous_push:
        args.append("--insecure-anonymous-push")
    if allow_delete:
        args.append("--allow-delete")
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=server_env())
    return Registry(
        backend=backend,
        port=port,
        proc=proc,
        log_path=log_path,
        data_dir=data_dir,
        args=args,
        database=database,
        flags={"anonymous_push": anonymous_push, "allow_delete": allow_delete},
    )


def _start_reference(workdir: Path, *, allow_delete: bool) -> Registry:
    binary = shutil.which("docker-registry")
    if not binary:
        pytest.fail("docker-registry not installed (apt-get install docker-registry)", pytrace=False)
    port = free_port()
    data_dir = workdir / "data"
    data_dir.mkdir()
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: info\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {data_dir}\n"
        f"  delete:\n    enabled: {'true' if allow_delete else 'false'}\n"
        "http:\n"
        f"  addr: 127.0.0.1:{port}\n"
    )
    args = [binary, "serve", str(config)]
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Registry(
        backend="reference",
        port=port,
        proc=proc,
        log_path=log_path,
        data_dir=data_dir,
        args=args,
        flags={"anonymous_push": True, "allow_delete": allow_delete},
    )


@pytest.fixture(params=backends())
def backend(request) -> str:
    return request.param


@pytest.fixture
def registry_factory(backend, request):
    """Start registries with chosen policy flags; all are stopped after the test.

    ``registry_factory(anonymous_push=True, allow_delete=False)`` returns a ready
    ``Registry``.
    """
    started: list[tuple[Registry, Path]] = []
    request.node.stash[SERVERS_KEY] = []

    def start(*, anonymous_push: bool = True, allow_delete: bool = False) -> Registry:
        workdir = Path(tempfile.mkdtemp(prefix=f"govstore-e2e-{backend}-"))
        if backend == "reference":
            if not anonymous_push:
                shutil.rmtree(workdir, ignore_errors=True)
                pytest.skip("the reference registry has no push policy to test")
            reg = _start_reference(workdir, allow_delete=allow_delete)
        else:
            reg = _start_govstore(backend, workdir, anonymous_push=anonymous_push, allow_delete=allow_delete)
        started.append((reg, workdir))
        request.node.stash[SERVERS_KEY].append(reg)
        _wait_ready(reg)
        return reg

    yield start

    for reg, workdir in started:
        reg.stop()
        if reg.database:
            try:
                psql(f'DROP DATABASE IF EXISTS "{reg.database}" WITH (FORCE)')
            except subprocess.CalledProcessError as e:
                print(f"warning: could not drop database {reg.database}: {e.stderr}")
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def registry(registry_factory) -> Registry:
    """A registry that accepts anonymous pushes (deletes not allowed)."""
    return registry_factory(anonymous_push=True, allow_delete=False)


@pytest.fixture
def work_dir(tmp_path) -> Path:
    return tmp_path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for reg in item.stash.get(SERVERS_KEY, []):
            report.sections.append(
                (f"{reg.backend} registry log (127.0.0.1:{reg.port}, last {LOG_TAIL_LINES} lines)", reg.log_tail())
            )
