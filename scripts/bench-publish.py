#!/usr/bin/env python3
"""Signed publishing benchmark: `govstore publish` against a plain `oras push` to the same server.

Starts govstore-server (SQLite, a temp data dir, a free port on 127.0.0.1, pushes need a
token), bootstraps it the way a registry admin and a publisher would (`govstore-server
admin create-user/create-org/create-token`, `govstore keygen`, `govstore login`, `govstore
key register`, `govstore spec publish` of catalog-examples/specs/ with a `specs` token),
then times:

  A  every package of the example catalogue (catalog-examples/*/govstore.toml), one
     `govstore publish DIR` process each, with one token scoped `publish:*` + `keys:*`
     for all of its namespaces;
  B  --packages generated packages (a govstore.toml with a unique name, a README and a
     few KB of files; namespaces spread over four organisations), one `govstore publish`
     process each, back to back; then --parallel processes at a time on as many more.

Baseline, in the same run and against the same server: the Python oras client
(oras.client.OrasClient) pushing the same kind of artifact (config blob, content
tar.gz, README; same media types, same sizes, fresh bytes) to a sibling repository in
the same namespace with the same token (Basic auth, token as password), both
  - in-process: one client in this script, connection kept alive, import already paid;
  - process per push: `python3 oras_push_one.py ...`, a new interpreter per push,
    like the CLI's process per publish;
and, with --parallel, process per push --parallel at a time. Generated packages and the
oras pushes alternate one by one (order rotating), so load on the machine hits all of
them alike.

Besides wall time (p50, p99, mean, publishes per second), CPU time per publish: the
publishing process's own (wait4 rusage; the in-process oras client's by
time.process_time) and the server's meanwhile (/proc/PID/stat). CPU time is what to
compare when the machine is busy with other work: waiting for a core inflates wall time.

Also measured, spread over the sequential run: process start (`govstore --version`,
`python3 -c "import oras.client"`), packing (`govstore publish --dry-run`), and the
private key's decryption (scrypt N=32768, by design): `govstore publish` with a wrong
password stops right after the key derivation, minus `govstore manifest check` of the
same directory.

Exit status: 0 when every publish and push succeeded, 1 when any failed, 2 on setup
errors.

Everything listens on 127.0.0.1 and lives in a temp dir under /tmp (or /dev/shm with
--storage tmpfs), removed at the end unless --keep.

Environment: GOVSTORE_SERVER_BIN, GOVSTORE_CLI_BIN (default
${CARGO_TARGET_DIR:-target}/release/govstore-server and .../govstore, relative to the
repository root).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import gzip
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = REPO_ROOT / "catalog-examples"

USER = "bench"
GEN_NAMESPACES = ["bench-a", "bench-b", "bench-c", "bench-d"]
KEY_PASSWORD = "bench-publish"
# The media types of a govstore package's blobs. oras sets no artifactType, which the
# server keeps for `govstore publish`; everything else is the same shape.
CONFIG_MT = "application/vnd.govstore.package.config.v1+json"
CONTENT_MT = "application/vnd.govstore.package.content.v1.tar+gzip"
README_MT = "text/markdown"

ORAS_PUSH_ONE = '''\
"""Push one artifact with oras-py: a new process per push, as `govstore publish` is."""
import base64, os, sys, time
import oras.client

host, repo, tag, config, content, readme = sys.argv[1:]
client = oras.client.OrasClient(hostname=host, insecure=True)
client.session.trust_env = False
client.session.headers["Authorization"] = "Basic " + base64.b64encode(b"bench:" + os.environ["BENCH_TOKEN"].encode()).decode()
t0 = time.perf_counter()
r = client.push(
    target=f"{host}/{repo}:{tag}",
    files=[f"{content}:%s", f"{readme}:%s"],
    manifest_config=f"{config}:%s",
    disable_path_validation=True,
    quiet=True,
)
if r.status_code != 201:
    sys.exit(f"manifest PUT answered {r.status_code}: {r.text[:300]}")
print(f"push {time.perf_counter() - t0:.6f}")
''' % (CONTENT_MT, README_MT, CONFIG_MT)


class SetupError(Exception):
    """The benchmark could not start: exit status 2."""


def log(msg: str = "") -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_binary(env_name: str, name: str) -> Path:
    env = os.environ.get(env_name)
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "release" / name


def clean_env(**extra: str) -> dict:
    """The environment for every child: no proxies, no colour, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(NO_COLOR="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


def pct(values: list[float], p: float) -> float:
    """Percentile with linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def load_avg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ---------------------------------------------------------------------------------------
# Server


class Server:
    def __init__(self, args: list[str], port: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self.logf = open(log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env())

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"govstore-server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/v2/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SetupError(f"govstore-server not ready after {timeout}s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """utime + stime of the server process so far."""
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except OSError:
            return float("nan")
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self, n: int = 30) -> str:
        self.logf.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


# ---------------------------------------------------------------------------------------
# Running things and timing them


@dataclass
class Run:
    ok: bool
    secs: float
    out: str = ""
    err: str = ""
    cpu: float | None = None  # the process's user + system CPU seconds
    server_cpu: float | None = None  # the server's CPU seconds meanwhile (sequential runs only)


def timed(args: list[str], env: dict, timeout: float = 300) -> Run:
    """Run a process to its end; wall time and, from wait4, its own CPU time."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        killed = threading.Event()
        timer = threading.Timer(timeout, lambda: (killed.set(), p.kill()))
        timer.start()
        try:
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        secs = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if killed.is_set():
        stderr += f"\ntimed out after {timeout}s"
    return Run(p.returncode == 0 and not killed.is_set(), secs, stdout, stderr, usage.ru_utime + usage.ru_stime)


def must(args: list[str], env: dict, what: str) -> str:
    r = timed(args, env)
    if not r.ok:
        raise SetupError(f"{what} failed:\n$ {' '.join(args)}\n{r.out}{r.err}")
    return r.out


@dataclass
class Series:
    """One kind of publish or push: its durations and failures."""

    label: str
    secs: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall: float | None = None  # set for parallel runs: publishes/s = n / wall
    cpu: list[float] = field(default_factory=list)  # client CPU seconds per item
    server_cpu: list[float] = field(default_factory=list)  # server CPU seconds per item
    inner: list[float] = field(default_factory=list)  # oras process per push: push() alone, timed inside

    def add(self, r: Run, what: str) -> None:
        if r.ok:
            self.secs.append(r.secs)
            if r.cpu is not None:
                self.cpu.append(r.cpu)
            if r.server_cpu is not None:
                self.server_cpu.append(r.server_cpu)
            if m := re.search(r"^push (\d+\.\d+)$", r.out, re.M):
                self.inner.append(float(m.group(1)))
        else:
            self.failures.append(f"{what}: {(r.err or r.out).strip()[-600:]}")
            if len(self.failures) <= 3:
                log(f"  FAILED {self.label}: {self.failures[-1]}")

    @property
    def n(self) -> int:
        return len(self.secs) + len(self.failures)

    def per_second(self) -> float:
        if self.wall:
            return len(self.secs) / self.wall
        return len(self.secs) / sum(self.secs) if self.secs else float("nan")

    def p(self, q: float) -> float:
        return pct(self.secs, q) * 1000


# ---------------------------------------------------------------------------------------
# Generated packages

WORDS = (
    "registry identity consent payment workflow messaging mediator adaptor country ministry "
    "citizen service building block interface specification version release signed bundle "
    "operator approval catalogue compliance deployment kubernetes postgresql schema event "
    "record population civil health education social protection benefit voucher account"
).split()


def spec_targets() -> list[tuple[str, str]]:
    """(spec id, newest released version) of each spec in the catalogue but `cfr`."""
    out = []
    for p in sorted((CATALOGUE / "specs").glob("*.toml")):
        d = tomllib.loads(p.read_text())
        released = [v["version"] for v in d.get("versions", []) if v.get("status") == "released"]
        if released and not d["id"].endswith("/cfr"):
            out.append((d["id"], released[-1]))
    return out or [("govstack/identity", "1.0.2")]


def prose(rng: random.Random, size: int) -> str:
    words: list[str] = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    return "\n".join(lines)[:size] + "\n"


@dataclass
class GenFiles:
    """One generated package: its directory, and the blob files an oras push sends."""

    name: str
    namespace: str
    version: str
    dir: Path
    readme: Path
    config: Path | None = None  # oras variants only
    content: Path | None = None

    @property
    def repo(self) -> str:
        return f"{self.namespace}/{self.name}"


def write_package(root: Path, namespace: str, name: str, version: str, seed: int, specs: list[tuple[str, str]]) -> GenFiles:
    """A package directory: govstore.toml, README.md and ~4 KiB in three more files."""
    rng = random.Random(seed)
    d = root / f"{namespace}--{name}"
    (d / "deploy").mkdir(parents=True)
    (d / "api").mkdir()
    spec, spec_version = specs[seed % len(specs)]
    manifest = (
        "[package]\n"
        f'name = "{namespace}/{name}"\n'
        f'version = "{version}"\n'
        f'description = "Generated benchmark package {name}: {" ".join(rng.choices(WORDS, k=8))}."\n'
        'license = "Apache-2.0"\n'
        'readme = "README.md"\n'
        f"keywords = {json.dumps(['benchmark', *rng.sample(WORDS, 2)])}\n"
        'maturity = "beta"\n'
        'sectors = ["public-administration"]\n\n'
        "[[implements]]\n"
        f'spec = "{spec}"\n'
        f'version = "{spec_version}"\n'
        'how = "adaptor"\n\n'
        "[requires.platform]\n"
        'kubernetes = ">=1.27"\n'
        'postgresql = ">=14"\n'
    )
    (d / "govstore.toml").write_text(manifest)
    readme = d / "README.md"
    readme.write_text(f"# {namespace}/{name} {version}\n\n{prose(rng, 1100)}")
    values = "\n".join(f"{rng.choice(WORDS)}_{i}: {rng.getrandbits(64):016x}" for i in range(40))
    (d / "deploy" / "values.yaml").write_text(f"# {name}\nreplicas: {rng.randint(1, 5)}\n{values}\n")
    (d / "api" / "openapi.yaml").write_text(
        f"openapi: 3.0.3\ninfo:\n  title: {name}\n  version: {version}\npaths:\n"
        + "".join(f"  /{rng.choice(WORDS)}/{i}:\n    get:\n      summary: {prose(rng, 60).strip()}\n" for i in range(12))
    )
    (d / "deploy" / "seed.bin").write_bytes(rng.randbytes(1024))
    return GenFiles(name=name, namespace=namespace, version=version, dir=d, readme=readme)


def pack_like_govstore(src: Path, dest: Path) -> None:
    """tar+gzip level 6, mtime 0, uid/gid 0, sorted paths: govstore's packing, in Python."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for p in sorted(x for x in src.rglob("*") if x.is_file()):
            info = tarfile.TarInfo(p.relative_to(src).as_posix())
            data = p.read_bytes()
            info.size, info.mtime, info.mode, info.uid, info.gid = len(data), 0, 0o644, 0, 0
            tar.addfile(info, io.BytesIO(data))
    dest.write_bytes(gzip.compress(buf.getvalue(), compresslevel=6, mtime=0))


def oras_variant(root: Path, namespace: str, name: str, seed: int, specs: list[tuple[str, str]]) -> GenFiles:
    """A generated package (fresh bytes) turned into the three blobs an oras push sends:
    config (the manifest as JSON), content (tar+gzip of the directory), README."""
    g = write_package(root, namespace, name, "1.0.0", seed, specs)
    g.config = g.dir.with_suffix(".config.json")
    manifest = tomllib.loads((g.dir / "govstore.toml").read_text())
    g.config.write_text(json.dumps(manifest, sort_keys=True, separators=(",", ":")))
    g.content = g.dir.with_suffix(".tar.gz")
    pack_like_govstore(g.dir, g.content)
    return g


# ---------------------------------------------------------------------------------------
# The benchmark


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.args = args
        self.work = work
        self.server_bin = args.server_bin
        self.cli = str(args.cli_bin)
        self.data = work / "data"
        self.keys = work / "keys"
        self.key = self.keys / "cosign.key"
        self.env = clean_env(GOVSTORE_CONFIG_DIR=str(work / "config"), GOVSTORE_KEY_PASSWORD=KEY_PASSWORD)
        self.server: Server | None = None
        self.token = ""
        self.helper = work / "oras_push_one.py"
        self.helper.write_text(ORAS_PUSH_ONE)

    # ---- setup

    def admin(self, *args: str) -> str:
        return must([str(self.server_bin), "admin", "--data-dir", str(self.data), *args], self.env, f"admin {args[0]}")

    def bootstrap(self, namespaces: list[str]) -> None:
        self.data.mkdir()
        self.admin("create-user", USER)
        for ns in namespaces:
            self.admin("create-org", "--owner", USER, ns)
        specs_token = self.admin("create-token", "--user", USER, "--scope", "specs", "--name", "specs").strip()
        self.token = self.admin(
            "create-token", "--user", USER, "--scope", "publish:*", "--scope", "keys:*", "--name", "publisher"
        ).strip()
        port = free_port()
        self.server = Server(
            [str(self.server_bin), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(self.data)],
            port,
            self.work / "server.log",
        )
        self.server.wait_ready()
        self.env["GOVSTORE_REGISTRY"] = self.server.url
        self.keys.mkdir()
        must([self.cli, "keygen", "--key-out", str(self.key), "--pub-out", str(self.keys / "cosign.pub")], self.env, "govstore keygen")
        must([self.cli, "login", "--registry", self.server.url, "--token", specs_token], self.env, "govstore login (specs token)")
        specs = sorted((CATALOGUE / "specs").glob("*.toml"))
        for p in specs:
            must([self.cli, "spec", "publish", str(p)], self.env, f"govstore spec publish {p.name}")
        must([self.cli, "login", "--registry", self.server.url, "--token", self.token], self.env, "govstore login (publisher token)")
        for ns in namespaces:
            must(
                [self.cli, "key", "register", "--namespace", ns, "--key", str(self.keys / "cosign.pub"), "--name", "bench"],
                self.env,
                f"govstore key register --namespace {ns}",
            )
        log(
            f"  user {USER}, {len(namespaces)} organisations, {len(specs)} specs published with a `specs` token; "
            f"one publisher token scoped publish:* keys:*, one key registered in every namespace"
        )

    # ---- the three ways to publish

    def govstore_publish(self, d: Path) -> Run:
        return timed([self.cli, "publish", "--key", str(self.key), str(d)], self.env)

    def oras_client(self):
        import oras.client

        client = oras.client.OrasClient(hostname=self.server.host, insecure=True)
        client.session.trust_env = False
        # Sent with every request, as the govstore CLI sends its token: no 401 round trips.
        client.session.headers["Authorization"] = "Basic " + base64.b64encode(f"{USER}:{self.token}".encode()).decode()
        return client

    def oras_inprocess(self, client, g: GenFiles) -> Run:
        c0 = time.process_time()
        t0 = time.perf_counter()
        try:
            r = client.push(
                target=f"{self.server.host}/{g.repo}:{g.version}",
                files=[f"{g.content}:{CONTENT_MT}", f"{g.readme}:{README_MT}"],
                manifest_config=f"{g.config}:{CONFIG_MT}",
                disable_path_validation=True,
                quiet=True,
            )
            ok, err = r.status_code == 201, f"manifest PUT answered {r.status_code}: {r.text[:300]}"
        except Exception as e:  # noqa: BLE001 - a failed push is a result, not a crash
            ok, err = False, repr(e)
        secs = time.perf_counter() - t0
        return Run(ok, secs, "", "" if ok else err, time.process_time() - c0)

    def with_server_cpu(self, fn, *a) -> Run:
        """fn(*a), with the server's CPU time meanwhile (whole clock ticks; exact on average)."""
        c0 = self.server.cpu_seconds()
        r = fn(*a)
        r.server_cpu = self.server.cpu_seconds() - c0
        return r

    def oras_process(self, g: GenFiles) -> Run:
        env = dict(self.env, BENCH_TOKEN=self.token)
        args = [sys.executable, str(self.helper), self.server.host, g.repo, g.version, str(g.config), str(g.content), str(g.readme)]
        return timed(args, env)

    # ---- workloads

    def catalogue(self, dirs: list[Path]) -> Series:
        s = Series("A catalogue: govstore publish")
        for d in dirs:
            s.add(self.with_server_cpu(self.govstore_publish, d), d.name)
        return s

    def sequential(
        self, gov: list[GenFiles], oras_in: list[GenFiles], oras_proc: list[GenFiles], base: dict[str, Series], samples: int
    ) -> tuple[Series, Series, Series]:
        """Publish gov[i], push oras_in[i] and oras_proc[i], order rotating; `samples`
        rounds of the baseline processes spread evenly over the run."""
        cmds = self.baseline_commands(gov[0].dir)
        rounds = 0
        sg = Series("B govstore publish (process each)")
        si = Series("B oras push, in-process client")
        sp = Series("B oras push, process per push")
        client = self.oras_client()
        steps = [
            lambda i: sg.add(self.with_server_cpu(self.govstore_publish, gov[i].dir), gov[i].repo),
            lambda i: si.add(self.with_server_cpu(self.oras_inprocess, client, oras_in[i]), oras_in[i].repo),
            lambda i: sp.add(self.with_server_cpu(self.oras_process, oras_proc[i]), oras_proc[i].repo),
        ]
        n = len(gov)
        every = max(1, n // 10)
        t0 = time.monotonic()
        for i in range(n):
            for k in range(3):  # rotate who goes first
                steps[(i + k) % 3](i)
            while rounds < (i + 1) * samples // n:
                self.baseline_round(cmds, base)
                rounds += 1
            if (i + 1) % every == 0 or i + 1 == n:
                log(
                    f"  {i + 1:5d}/{n}  {time.monotonic() - t0:6.1f}s  p50 so far: govstore {sg.p(50):.0f} ms, "
                    f"oras in-process {si.p(50):.0f} ms, oras process {sp.p(50):.0f} ms   load {load_avg()}"
                )
        return sg, si, sp

    def parallel(self, label: str, fn, items: list[GenFiles], workers: int) -> Series:
        s = Series(label)
        c0 = self.server.cpu_seconds()
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for g, r in zip(items, pool.map(fn, items)):
                s.add(r, g.repo)
        s.wall = time.perf_counter() - t0
        if s.secs:
            s.server_cpu = [(self.server.cpu_seconds() - c0) / len(s.secs)]
        return s

    def baseline_commands(self, pkg: Path) -> dict[str, tuple[list[str], dict, bool]]:
        """Processes that stop early: process start, packing, and key decryption."""
        wrong = dict(self.env, GOVSTORE_KEY_PASSWORD="not-the-password")
        return {
            "govstore --version": ([self.cli, "--version"], self.env, True),
            "python3 -c 'import oras.client'": ([sys.executable, "-c", "import oras.client"], self.env, True),
            "govstore manifest check": ([self.cli, "manifest", "check", str(pkg)], self.env, True),
            "govstore publish --dry-run": ([self.cli, "publish", "--dry-run", str(pkg)], self.env, True),
            # Reads config and manifest, derives the key (scrypt), fails on the MAC: no packing, no network.
            "govstore publish, wrong password": ([self.cli, "publish", "--key", str(self.key), str(pkg)], wrong, False),
        }

    @staticmethod
    def baseline_round(cmds: dict[str, tuple[list[str], dict, bool]], out: dict[str, Series]) -> None:
        for k, (args, env, expect_ok) in cmds.items():
            r = timed(args, env)
            if r.ok != expect_ok:
                out[k].failures.append(f"{k}: exit {'0' if r.ok else 'non-zero'}: {(r.err or r.out).strip()[-300:]}")
            elif not expect_ok and "password" not in r.err:
                out[k].failures.append(f"{k}: failed for another reason: {r.err.strip()[-300:]}")
            else:
                out[k].secs.append(r.secs)
                out[k].cpu.append(r.cpu)

    def server_side_ms(self) -> dict[str, list[int]]:
        """Per-request times the server logged (whole ms) for the last request of each
        publish: govstore's publish API call and oras' manifest PUT."""
        api = re.compile(r"method=POST path=/api/v1/packages/[^/]+/gen-\d+/versions status=201 ms=(\d+)")
        put = re.compile(r"method=PUT path=/v2/[^/]+/oras-(?:in|proc)-\d+/manifests/\S+ status=201 ms=(\d+)")
        res: dict[str, list[int]] = {"publish API call": [], "oras manifest PUT": []}
        for line in self.server.log_path.read_text(errors="replace").splitlines():
            if m := api.search(line):
                res["publish API call"].append(int(m.group(1)))
            elif m := put.search(line):
                res["oras manifest PUT"].append(int(m.group(1)))
        return res


def catalogue_dirs() -> tuple[list[Path], list[str]]:
    dirs = sorted(p.parent for p in CATALOGUE.glob("*/govstore.toml"))
    namespaces = sorted({tomllib.loads((d / "govstore.toml").read_text())["package"]["name"].split("/")[0] for d in dirs})
    return dirs, namespaces


def blob_sizes_govstore(cli: str, env: dict, d: Path) -> int | None:
    r = timed([cli, "--json", "publish", "--dry-run", str(d)], env)
    if not r.ok:
        return None
    return sum(b["size"] for b in json.loads(r.out)["blobs"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--packages", type=int, default=1000, help="generated packages for workload B (default 1000: about 14 minutes on 2 cores)"
    )
    ap.add_argument(
        "--parallel",
        type=int,
        default=4,
        help="processes at a time for the parallel part of B, on as many more packages (default 4; 0 or 1 skips it)",
    )
    ap.add_argument("--samples", type=int, default=15, help="samples of each process-start / decryption timing (default 15)")
    ap.add_argument("--no-catalogue", action="store_true", help="skip workload A")
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="quick, for CI: 20 generated packages, 2 at a time on 10 more, 3 samples; the catalogue included",
    )
    ap.add_argument("--storage", choices=["disk", "tmpfs"], default="disk", help="temp dir (data, packages) in /tmp or /dev/shm")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (server log, data, packages) for debugging")
    ap.add_argument("--server-bin", type=Path, default=None, help="default: GOVSTORE_SERVER_BIN or target/release/govstore-server")
    ap.add_argument("--cli-bin", type=Path, default=None, help="default: GOVSTORE_CLI_BIN or target/release/govstore")
    args = ap.parse_args()
    if args.packages < 1:
        ap.error("--packages must be at least 1")
    parallel_packages = args.packages
    if args.smoke:
        args.packages, args.parallel, args.samples, parallel_packages = 20, 2, 3, 10
    args.server_bin = args.server_bin or default_binary("GOVSTORE_SERVER_BIN", "govstore-server")
    args.cli_bin = args.cli_bin or default_binary("GOVSTORE_CLI_BIN", "govstore")
    for b in (args.server_bin, args.cli_bin):
        if not b.exists():
            log(
                f"{b} not found: cargo build --release -p govstore-server -p govstore-cli, "
                "or set GOVSTORE_SERVER_BIN and GOVSTORE_CLI_BIN"
            )
            return 2
    try:
        import oras.client  # noqa: F401
    except ImportError:
        log("the Python oras client is required: pip install oras")
        return 2

    # SIGTERM (a CI timeout, kill PID) unwinds like Ctrl-C: the server stops, the temp dir goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parent = "/dev/shm" if args.storage == "tmpfs" else "/tmp"
    work = Path(tempfile.mkdtemp(prefix="govstore-bench-publish-", dir=parent))
    bench = Bench(args, work)
    started = time.monotonic()
    try:
        log(f"server: {args.server_bin}")
        log(f"cli:    {args.cli_bin}")
        log(f"work dir: {work} ({args.storage}){' (kept)' if args.keep else ' (removed at the end)'}; all traffic on 127.0.0.1")
        log(f"machine: {os.cpu_count()} CPUs, load average {load_avg()} at the start")
        log(
            "fairness: govstore publishes are `govstore publish DIR` processes (read and check the manifest, "
            "pack, decrypt the key, sign, HEAD+POST+PUT per blob, one publish API call that verifies and stores). "
            "oras pushes the same kind of artifact (config, content tar.gz, README; fresh bytes of the same sizes, "
            "so no blob is deduplicated on either side) to `<ns>/oras-*` in the same namespaces, with the same token "
            "sent on every request. The two are interleaved one by one, order rotating. Wall times suffer from "
            "other load on the machine; CPU times (the publishing process's and the server's) much less."
        )

        cat_dirs, cat_ns = catalogue_dirs()
        run_catalogue = not args.no_catalogue
        namespaces = sorted(set(GEN_NAMESPACES) | (set(cat_ns) if run_catalogue else set()))

        log("")
        log("setup")
        bench.bootstrap(namespaces)

        specs = spec_targets()
        gen = work / "packages"
        n = args.packages
        log(f"  generating {n} packages x 3 (govstore, oras in-process, oras process)")
        ns_of = lambda i: GEN_NAMESPACES[i % len(GEN_NAMESPACES)]  # noqa: E731
        gov = [write_package(gen / "govstore", ns_of(i), f"gen-{i:05d}", "1.0.0", 3 * i, specs) for i in range(n)]
        oras_in = [oras_variant(gen / "oras-in", ns_of(i), f"oras-in-{i:05d}", 3 * i + 1, specs) for i in range(n)]
        oras_proc = [oras_variant(gen / "oras-proc", ns_of(i), f"oras-proc-{i:05d}", 3 * i + 2, specs) for i in range(n)]
        do_parallel = args.parallel > 1 and parallel_packages > 0
        if do_parallel:
            m = parallel_packages
            par_gov = [write_package(gen / "par-govstore", ns_of(i), f"par-{i:05d}", "1.0.0", 10**7 + 2 * i, specs) for i in range(m)]
            par_oras = [oras_variant(gen / "par-oras", ns_of(i), f"oras-par-{i:05d}", 10**7 + 2 * i + 1, specs) for i in range(m)]

        # Bytes per publish, on a sample: govstore's blobs (dry run) against oras' files.
        sample = range(min(n, 20))
        gov_bytes = [b for i in sample if (b := blob_sizes_govstore(bench.cli, bench.env, gov[i].dir)) is not None]
        oras_bytes = [oras_in[i].config.stat().st_size + oras_in[i].content.stat().st_size + oras_in[i].readme.stat().st_size for i in sample]
        raw_bytes = [sum(f.stat().st_size for f in gov[i].dir.rglob("*") if f.is_file()) for i in sample]
        log(
            f"  bytes per publish (mean of {len(sample)}): files in the package {statistics.mean(raw_bytes):.0f}; "
            f"blobs sent by govstore {statistics.mean(gov_bytes) if gov_bytes else float('nan'):.0f}, by oras {statistics.mean(oras_bytes):.0f} "
            "(config + content + README)"
        )

        results: list[Series] = []
        if run_catalogue:
            log("")
            log(f"A: the example catalogue, {len(cat_dirs)} packages in {len(cat_ns)} namespaces, one `govstore publish` each")
            a = bench.catalogue(cat_dirs)
            log(f"  {len(a.secs)}/{a.n} published, p50 {a.p(50):.0f} ms, max {max(a.secs, default=0) * 1000:.0f} ms")
            results.append(a)

        log("")
        log(
            f"B: {n} generated packages, sequential, interleaved with the two oras baselines and "
            f"{args.samples} rounds of process-start, packing and key-decryption timings"
        )
        base = {k: Series(k) for k in bench.baseline_commands(gov[0].dir)}
        sg, si, sp = bench.sequential(gov, oras_in, oras_proc, base, args.samples)
        results += [sg, si, sp]

        if do_parallel:
            log("")
            log(f"B parallel: {parallel_packages} more packages, {args.parallel} processes at a time, then oras the same way")
            pg = bench.parallel(f"B govstore publish, {args.parallel} at a time", lambda g: bench.govstore_publish(g.dir), par_gov, args.parallel)
            po = bench.parallel(f"B oras process per push, {args.parallel} at a time", bench.oras_process, par_oras, args.parallel)
            results += [pg, po]

        server_ms = bench.server_side_ms()
        load_end = load_avg()
    except SetupError as e:
        log(f"setup failed: {e}")
        return 2
    finally:
        if bench.server:
            bench.server.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    # ---- report
    def mean_ms(v: list[float]) -> float:
        return statistics.mean(v) * 1000 if v else float("nan")

    log("")
    log(f"load average at the end {load_end}; total {time.monotonic() - started:.0f} s")
    log("")
    log("wall times per publish; CPU: mean per publish, of the publishing process (client) and of the server")
    log(
        f"{'workload':48s} {'ok':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'mean ms':>8s} {'per s':>7s} "
        f"{'client CPU':>11s} {'server CPU':>11s}"
    )
    for s in results:
        ok = f"{len(s.secs)}/{s.n}"
        log(
            f"{s.label:48s} {ok:>9s} {s.p(50):8.1f} {s.p(99):8.1f} {mean_ms(s.secs):8.1f} {s.per_second():7.1f} "
            f"{mean_ms(s.cpu):8.1f} ms {mean_ms(s.server_cpu):8.1f} ms"
        )
    if sp.inner:
        log(
            f"{'  of which push() inside the oras process':48s} {'':>9s} {pct(sp.inner, 50) * 1000:8.1f} "
            f"{pct(sp.inner, 99) * 1000:8.1f} {mean_ms(sp.inner):8.1f}"
        )
    log("")
    log(f"{'process timings (no publish)':48s} {'ok':>9s} {'p50 ms':>8s} {'':>8s} {'':>8s} {'':>7s} {'client CPU':>11s}")
    for s in base.values():
        log(f"{s.label:48s} {f'{len(s.secs)}/{s.n}':>9s} {s.p(50):8.1f} {'':>8s} {'':>8s} {'':>7s} {mean_ms(s.cpu):8.1f} ms")
    wrong, check = base["govstore publish, wrong password"], base["govstore manifest check"]
    decrypt = wrong.p(50) - check.p(50)
    decrypt_cpu = mean_ms(wrong.cpu) - mean_ms(check.cpu)
    log(
        f"{'key decryption (wrong password - manifest check)':48s} {'':>9s} {decrypt:8.1f} {'':>8s} {'':>8s} {'':>7s} "
        f"{decrypt_cpu:8.1f} ms"
    )
    for k, v in server_ms.items():
        if v:
            log(f"{'server log, ' + k + ' (whole ms)':48s} {len(v):>9d} {pct(v, 50):8.1f} {pct(v, 99):8.1f}")

    g, oi, op = sg.p(50), si.p(50), sp.p(50)
    log("")
    log("govstore / oras, p50 wall per publish:")
    log(f"  like for like, oras process per push (a new process each, as the CLI): {g / op:5.2f}x  ({g:.0f} / {op:.0f} ms)")
    log(f"  against oras in-process (warm client, no interpreter start or import): {g / oi:5.2f}x  ({g:.0f} / {oi:.0f} ms)")
    log(
        f"  govstore less its key decryption, against oras in-process:            "
        f"{(g - decrypt) / oi:5.2f}x  ({g - decrypt:.0f} / {oi:.0f} ms)"
    )
    sc_g, sc_o = mean_ms(sg.server_cpu), mean_ms(si.server_cpu + sp.server_cpu)
    log(f"  server CPU per publish, govstore / oras:                               {sc_g / sc_o:5.2f}x  ({sc_g:.1f} / {sc_o:.1f} ms)")
    if do_parallel:
        log(f"  {args.parallel} at a time: govstore {pg.per_second():.1f}/s, oras process per push {po.per_second():.1f}/s")
    verdict = "met" if g / op < 1.5 else "NOT met"
    log(f"target govstore/oras < 1.5x, like for like: {verdict} ({g / op:.2f}x)")
    log("")

    failed = [f for s in results for f in s.failures] + [f for s in base.values() for f in s.failures]
    if failed:
        log(f"{len(failed)} failure(s); the first:")
        for f in failed[:5]:
            log(f"  {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
