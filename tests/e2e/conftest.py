"""Fixtures that start a real govstore-server for the end-to-end tests.

Every test that uses the ``registry`` (or ``registry_factory``) fixture runs once per
metadata backend: ``sqlite`` (the embedded default, files in a temp data dir) and
``postgres`` (a fresh database per server start on the local PostgreSQL, dropped
afterwards). The ``govstore`` fixture runs the ``govstore`` command line with a
configuration directory of its own per test.

Environment:

- ``GOVSTORE_SERVER_BIN``: the server binary; default
  ``${CARGO_TARGET_DIR:-<repo>/target}/debug/govstore-server``.
- ``GOVSTORE_CLI_BIN``: the ``govstore`` command line; default
  ``${CARGO_TARGET_DIR:-<repo>/target}/debug/govstore``.
- ``GOVSTORE_E2E_BACKENDS``: comma-separated backends to run, default
  ``sqlite,postgres``. ``reference`` runs the tests against Debian's
  ``docker-registry`` (CNCF distribution 2.8) instead, to check the tests themselves;
  tests of features that registry lacks (referrers API, auth policy) skip there.
- ``GOVSTORE_E2E_PG_URL``: PostgreSQL server URL without database name, default
  ``postgres://postgres@127.0.0.1:5432``.
- ``GOVSTORE_E2E_READY_TIMEOUT``: seconds to wait for ``GET /v2/`` to answer 200
  (default 30).
- ``GOVSTORE_E2E_DEMO_TIMEOUT``: seconds to wait for ``serve --demo`` to print that the
  demo catalogue is published (default 120: debug builds are slow).
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

from e2e_helpers import CLI_KEY_PASSWORD, GovstoreCli, Result

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = float(os.environ.get("GOVSTORE_E2E_READY_TIMEOUT", "30"))
DEMO_TIMEOUT = float(os.environ.get("GOVSTORE_E2E_DEMO_TIMEOUT", "120"))
DEMO_CATALOG = REPO_ROOT / "catalog-examples"
PG_URL = os.environ.get("GOVSTORE_E2E_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
LOG_TAIL_LINES = 200

SERVERS_KEY = pytest.StashKey[list]()

# Every request of these tests (requests, skopeo, oras) goes to 127.0.0.1: never via a proxy.
_no_proxy = ",".join(filter(None, ["127.0.0.1", "localhost", os.environ.get("NO_PROXY", "")]))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = _no_proxy


def _debug_binary(name: str) -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "debug" / name


def server_binary() -> Path:
    env = os.environ.get("GOVSTORE_SERVER_BIN")
    return Path(env) if env else _debug_binary("govstore-server")


def cli_binary() -> Path:
    env = os.environ.get("GOVSTORE_CLI_BIN")
    return Path(env) if env else _debug_binary("govstore")


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
    # `serve --demo` only: the file its stdout goes to, and what it printed there.
    stdout_path: Path | None = None
    demo_token: str | None = None

    @property
    def host(self) -> str:
        """host:port, as OCI clients want it in references."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def v2(self, path: str = "") -> str:
        return f"{self.url}/v2/{path.lstrip('/')}"

    def api(self, path: str = "") -> str:
        return f"{self.url}/api/v1/{path.lstrip('/')}"

    @property
    def database_url(self) -> str | None:
        return f"{PG_URL}/{self.database}" if self.database else None

    def admin(self, *args: str, check: bool = True, timeout: float = 60) -> Result:
        """Runs `govstore-server admin ARGS` on this server's data dir and database
        (it works while the server runs). The result's stdout is what the command
        prints for scripts (a token, for `create-token`)."""
        if self.is_reference:
            raise AssertionError("the reference registry has no admin commands")
        cmd = [str(server_binary()), "admin", "--data-dir", str(self.data_dir)]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        cmd += list(args)
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=server_env(), stdin=subprocess.DEVNULL)
        res = Result(cmd, p.returncode, p.stdout, p.stderr.decode(errors="replace"))
        if check and p.returncode != 0:
            raise AssertionError("govstore-server admin failed\n" + res.describe())
        return res

    def create_token(self, user: str, *scopes: str) -> str:
        """A new API token for `user` with `scopes`."""
        args = ["create-token", "--user", user]
        for scope in scopes:
            args += ["--scope", scope]
        token = self.admin(*args).text.strip()
        assert token.startswith("gvs_") and "\n" not in token, f"create-token printed {token!r}"
        return token

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
            out = open(self.stdout_path, "ab") if self.stdout_path else log
            try:
                self.proc = subprocess.Popen(
                    self.args,
                    stdout=out,
                    stderr=log if self.stdout_path else subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=server_env(),
                )
            finally:
                if out is not log:
                    out.close()
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


def _wait_demo(reg: Registry) -> None:
    """Waits for `serve --demo` to print `govstore demo on URL: ...` and its admin token."""
    deadline = time.monotonic() + DEMO_TIMEOUT
    text = ""
    while time.monotonic() < deadline:
        text = reg.stdout_path.read_text(errors="replace")
        if "govstore demo on " in text:
            for line in text.splitlines():
                if line.startswith("demo admin token"):
                    reg.demo_token = line.rsplit(" ", 1)[-1].strip()
                    return
        rc = reg.proc.poll()
        if rc is not None:
            pytest.fail(
                f"{reg.backend} registry (--demo) exited with status {rc} before the demo was ready\n"
                f"command: {' '.join(reg.args)}\n--- stdout ---\n{text}\n--- stderr ---\n{reg.log_tail()}",
                pytrace=False,
            )
        time.sleep(0.2)
    reg.stop()
    pytest.fail(
        f"{reg.backend} registry: no `govstore demo on` line with a token after {DEMO_TIMEOUT:.0f}s\n"
        f"command: {' '.join(reg.args)}\n--- stdout ---\n{text}\n--- stderr ---\n{reg.log_tail()}",
        pytrace=False,
    )


def _start_govstore(
    backend: str, workdir: Path, *, anonymous_push: bool, allow_delete: bool, demo: bool = False
) -> Registry:
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
    stdout_path = None
    if demo:
        args += ["--demo", "--demo-catalog", str(DEMO_CATALOG)]
        # The demo prints its URL and token on stdout; logs go to stderr.
        stdout_path = workdir / "server.out"
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        if stdout_path:
            with open(stdout_path, "wb") as out:
                proc = subprocess.Popen(args, stdout=out, stderr=log, stdin=subprocess.DEVNULL, env=server_env())
        else:
            proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=server_env()
            )
    return Registry(
        backend=backend,
        port=port,
        proc=proc,
        log_path=log_path,
        data_dir=data_dir,
        args=args,
        database=database,
        flags={"anonymous_push": anonymous_push, "allow_delete": allow_delete, "demo": demo},
        stdout_path=stdout_path,
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
    ``Registry``; with ``demo=True`` it runs ``serve --demo`` and returns once the demo
    catalogue is published (``Registry.demo_token`` holds the admin token it printed).
    """
    started: list[tuple[Registry, Path]] = []
    request.node.stash[SERVERS_KEY] = []

    def start(*, anonymous_push: bool = True, allow_delete: bool = False, demo: bool = False) -> Registry:
        workdir = Path(tempfile.mkdtemp(prefix=f"govstore-e2e-{backend}-"))
        if backend == "reference":
            if not anonymous_push or demo:
                shutil.rmtree(workdir, ignore_errors=True)
                pytest.skip("the reference registry has no push policy, accounts or demo to test")
            reg = _start_reference(workdir, allow_delete=allow_delete)
        else:
            reg = _start_govstore(
                backend, workdir, anonymous_push=anonymous_push, allow_delete=allow_delete, demo=demo
            )
        started.append((reg, workdir))
        request.node.stash[SERVERS_KEY].append(reg)
        if demo:
            _wait_demo(reg)
        _wait_ready(reg)
        return reg

    yield start

    for reg, workdir in started:
        _dispose(reg, workdir)


def _dispose(reg: Registry, workdir: Path) -> None:
    """Stops a registry and removes its data dir and PostgreSQL database."""
    reg.stop()
    if reg.database:
        try:
            psql(f'DROP DATABASE IF EXISTS "{reg.database}" WITH (FORCE)')
        except subprocess.CalledProcessError as e:
            print(f"warning: could not drop database {reg.database}: {e.stderr}")
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module", params=backends())
def module_demo_registry(request):
    """One `serve --demo` registry (no anonymous pushes) per test module and backend,
    shared by the module's tests, which must leave it as they found it. Use it through
    ``demo_registry``, which also shows its log when a test fails."""
    backend = request.param
    if backend == "reference":
        pytest.skip("the reference registry has no demo catalogue")
    workdir = Path(tempfile.mkdtemp(prefix=f"govstore-e2e-{backend}-demo-"))
    reg = _start_govstore(backend, workdir, anonymous_push=False, allow_delete=False, demo=True)
    try:
        _wait_demo(reg)
        _wait_ready(reg)
        yield reg
    finally:
        _dispose(reg, workdir)


@pytest.fixture
def demo_registry(module_demo_registry, request) -> Registry:
    """The module's shared demo registry (see ``module_demo_registry``)."""
    request.node.stash.setdefault(SERVERS_KEY, []).append(module_demo_registry)
    return module_demo_registry


@pytest.fixture
def registry(registry_factory) -> Registry:
    """A registry that accepts anonymous pushes (deletes not allowed)."""
    return registry_factory(anonymous_push=True, allow_delete=False)


@pytest.fixture
def signed_registry(registry_factory) -> Registry:
    """A registry that takes packages only from tokens (no --insecure-anonymous-push)."""
    return registry_factory(anonymous_push=False, allow_delete=False)


@pytest.fixture
def work_dir(tmp_path) -> Path:
    return tmp_path


@pytest.fixture
def govstore(tmp_path) -> GovstoreCli:
    """Runs the `govstore` command line: `govstore.run("info", "a/b", registry=reg.url)`.

    Each test has its own configuration directory (``GOVSTORE_CONFIG_DIR``, not created
    beforehand, so the tests see the mode the CLI gives it), its own local cache
    (``GOVSTORE_CACHE_DIR``; ``govstore.with_cache(dir)`` gives a runner with another),
    ``NO_COLOR=1`` and a key password in ``GOVSTORE_KEY_PASSWORD``; ``GOVSTORE_TOKEN``,
    ``GOVSTORE_REGISTRY`` and ``GOVSTORE_CACHE_DIR`` from the caller's environment are
    not passed on. ``govstore.as_user(dir)`` gives a runner with another configuration
    directory (another user's login).
    """
    binary = cli_binary()
    if not binary.exists():
        pytest.fail(
            f"govstore binary not found at {binary}; build it with "
            "`cargo build -p govstore-cli` or set GOVSTORE_CLI_BIN",
            pytrace=False,
        )
    return GovstoreCli(
        binary,
        config_dir=tmp_path / "govstore-config",
        cache_dir=tmp_path / "govstore-cache",
        password=CLI_KEY_PASSWORD,
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for reg in item.stash.get(SERVERS_KEY, []):
            report.sections.append(
                (f"{reg.backend} registry log (127.0.0.1:{reg.port}, last {LOG_TAIL_LINES} lines)", reg.log_tail())
            )
            if reg.stdout_path:
                try:
                    out = reg.stdout_path.read_text(errors="replace")
                except OSError as e:
                    out = f"<no stdout: {e}>"
                report.sections.append((f"{reg.backend} registry stdout", out))
