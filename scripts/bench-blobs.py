#!/usr/bin/env python3
"""Blob throughput and memory benchmark: govstore-server against Debian's docker-registry.

Throughput: for each registry, push a fresh random blob of --size-mib with a monolithic
upload (POST /v2/bench/blobs/uploads/, then PUT <location>?digest=... carrying the whole
body, streamed by curl), then pull it back (curl -o /dev/null); --runs times; print the
median MiB/s per registry and direction and the ratio govstore/reference.

Memory: on a fresh govstore-server, stream a --memory-mib blob up (monolithic PUT, then
again as one PATCH with chunked transfer encoding, the way skopeo uploads; then a second,
fresh blob as four PATCHes with Content-Range and an empty closing PUT, so the server joins
four parts) and down, sampling the server's VmRSS every 50 ms. Exit status 1 when the peak grows more than
--max-growth-mib (default 128) over the RSS before.

Everything listens on 127.0.0.1 and lives in a temp dir under /tmp (or /dev/shm with
--storage tmpfs), removed at the end.

Environment: GOVSTORE_SERVER_BIN (default ${CARGO_TARGET_DIR:-target}/release/govstore-server,
relative to the repository root).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
REPO = "bench"


def log(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_binary() -> Path:
    env = os.environ.get("GOVSTORE_SERVER_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "release" / "govstore-server"


class Server:
    def __init__(self, name: str, args: list[str], port: int, log_path: Path):
        self.name = name
        self.args = args
        self.port = port
        self.log_path = log_path
        self.logf = open(log_path, "wb")
        self.proc = subprocess.Popen(
            args, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=dict(os.environ, NO_COLOR="1")
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/v2/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"{self.name} not ready after {timeout}s:\n{self.tail()}")

    def tail(self, n: int = 40) -> str:
        self.logf.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def rss_kib(self) -> int | None:
        try:
            with open(f"/proc/{self.proc.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


def start_govstore(binary: Path, work: Path, name: str = "govstore") -> Server:
    port = free_port()
    data = work / f"{name}-data"
    data.mkdir()
    args = [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data), "--insecure-anonymous-push"]
    s = Server(name, args, port, work / f"{name}.log")
    s.wait_ready()
    return s


def start_reference(work: Path) -> Server:
    port = free_port()
    data = work / "reference-data"
    data.mkdir()
    cfg = work / "reference-config.yml"
    cfg.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {data}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    s = Server("docker-registry", [shutil.which("docker-registry") or "docker-registry", "serve", str(cfg)], port, work / "reference.log")
    s.wait_ready()
    return s


def make_blob(path: Path, size: int) -> str:
    """Write `size` fresh random bytes; return the sha256 digest."""
    h = hashlib.sha256()
    chunk = 8 * MIB
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(chunk, left)
            data = os.urandom(n)
            h.update(data)
            fh.write(data)
            left -= n
    return "sha256:" + h.hexdigest()


def start_upload(server: Server) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("POST", f"/v2/{REPO}/blobs/uploads/", headers={"Content-Length": "0"})
    r = conn.getresponse()
    r.read()
    loc = r.getheader("Location")
    if r.status != 202 or not loc:
        raise SystemExit(f"{server.name}: POST upload answered {r.status} (Location {loc!r})")
    return urllib.parse.urljoin(server.base + "/", loc)


def with_digest(url: str, digest: str) -> str:
    return url + ("&" if "?" in url else "?") + "digest=" + urllib.parse.quote(digest, safe="")


def curl(*args: str) -> tuple[int, float, str]:
    """Run curl; return (http status, seconds, stderr). Proxies are never used."""
    p = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "-H", "Expect:", *args, "-w", "%{http_code} %{time_total}"],
        capture_output=True,
        text=True,
    )
    parts = p.stdout.strip().split()
    if p.returncode != 0 or len(parts) < 2:
        raise SystemExit(f"curl {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return int(parts[-2]), float(parts[-1]), p.stderr


def push_monolithic(server: Server, path: Path, digest: str) -> float:
    loc = start_upload(server)
    t0 = time.monotonic()
    code, secs, err = curl(
        "-X", "PUT", "-T", str(path), "-H", "Content-Type: application/octet-stream", "-o", "/dev/null", with_digest(loc, digest)
    )
    wall = time.monotonic() - t0
    if code != 201:
        raise SystemExit(f"{server.name}: PUT blob answered {code}\n{server.tail()}")
    return secs or wall


def push_streamed_patch(server: Server, path: Path, digest: str) -> float:
    """One PATCH with Transfer-Encoding: chunked (no Content-Length), then PUT ?digest=."""
    loc = start_upload(server)
    conn_t0 = time.monotonic()
    p = subprocess.run(
        [
            "curl", "-sS", "--noproxy", "*", "-H", "Expect:", "-X", "PATCH", "-T", str(path),
            "-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/octet-stream",
            "-D", "-", "-o", "/dev/null", loc,
        ],
        capture_output=True,
        text=True,
    )
    headers = {}
    status = 0
    for line in p.stdout.splitlines():
        if line.startswith("HTTP/"):
            status = int(line.split()[1])
        elif ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if p.returncode != 0 or status != 202:
        raise SystemExit(f"{server.name}: PATCH answered {status}: {p.stderr}\n{server.tail()}")
    loc = urllib.parse.urljoin(server.base + "/", headers.get("location", loc))
    code, _, _ = curl("-X", "PUT", "-H", "Content-Length: 0", "-o", "/dev/null", with_digest(loc, digest))
    if code != 201:
        raise SystemExit(f"{server.name}: closing PUT answered {code}\n{server.tail()}")
    return time.monotonic() - conn_t0


def push_in_chunks(server: Server, path: Path, digest: str, chunks: int = 4) -> float:
    """`chunks` PATCHes with Content-Range and Content-Length, then an empty PUT ?digest=.
    The chunk files are cut before the clock starts."""
    size = path.stat().st_size
    step = -(-size // chunks)
    pieces = []
    with open(path, "rb") as f:
        for i in range(chunks):
            data = f.read(step)
            if not data:
                break
            piece = path.with_name(f"{path.name}.{i}")
            piece.write_bytes(data)
            pieces.append((i * step, len(data), piece))
    loc = start_upload(server)
    t0 = time.monotonic()
    try:
        for start, n, piece in pieces:
            code, _, _ = curl(
                "-X", "PATCH", "-T", str(piece), "-H", f"Content-Range: {start}-{start + n - 1}",
                "-H", "Content-Type: application/octet-stream", "-o", "/dev/null", loc,
            )
            if code != 202:
                raise SystemExit(f"{server.name}: PATCH {start}-{start + n - 1} answered {code}\n{server.tail()}")
        code, _, _ = curl("-X", "PUT", "-H", "Content-Length: 0", "-o", "/dev/null", with_digest(loc, digest))
        if code != 201:
            raise SystemExit(f"{server.name}: closing PUT answered {code}\n{server.tail()}")
        return time.monotonic() - t0
    finally:
        for _, _, piece in pieces:
            piece.unlink(missing_ok=True)


def pull(server: Server, digest: str, size: int) -> float:
    p = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}",
         f"{server.base}/v2/{REPO}/blobs/{digest}"],
        capture_output=True,
        text=True,
    )
    code, secs, got = p.stdout.split()
    if p.returncode != 0 or code != "200" or int(got) != size:
        raise SystemExit(f"{server.name}: GET blob answered {code}, {got} of {size} bytes: {p.stderr}")
    return float(secs)


class RssSampler(threading.Thread):
    def __init__(self, server: Server, interval: float = 0.05):
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            rss = self.server.rss_kib()
            if rss is not None:
                self.peak = max(self.peak, rss)
                self.samples += 1
            time.sleep(self.interval)

    def finish(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def mib_s(size: int, secs: float) -> float:
    return size / MIB / secs


def throughput(servers: list[Server], work: Path, size: int, runs: int) -> dict:
    results = {s.name: {"push": [], "pull": []} for s in servers}
    for i in range(runs):
        blob = work / "blob.bin"
        digest = make_blob(blob, size)
        # Alternate who goes first so neither always gets the colder page cache.
        order = servers if i % 2 == 0 else list(reversed(servers))
        for s in order:
            os.sync()  # start each push without the previous one's dirty pages to write back
            t = push_monolithic(s, blob, digest)
            results[s.name]["push"].append(mib_s(size, t))
        for s in order:
            t = pull(s, digest, size)
            results[s.name]["pull"].append(mib_s(size, t))
        blob.unlink()
        log(
            f"  run {i + 1}/{runs}: "
            + ", ".join(f"{n} push {r['push'][-1]:.0f} pull {r['pull'][-1]:.0f} MiB/s" for n, r in results.items())
        )
    return results


def memory_check(binary: Path, work: Path, size: int, max_growth_mib: int) -> bool:
    server = start_govstore(binary, work, name="govstore-memory")
    try:
        # Warm up (connection pools, lazy init) with a small blob, then take the baseline.
        small = work / "warm.bin"
        d = make_blob(small, MIB)
        push_monolithic(server, small, d)
        pull(server, d, MIB)
        small.unlink()
        time.sleep(0.3)
        before = server.rss_kib() or 0

        blob = work / "memory-blob.bin"
        log(f"  writing a {size // MIB} MiB random blob")
        digest = make_blob(blob, size)
        # A second, fresh blob for the chunked upload, so the server really joins its parts.
        chunked = work / "memory-blob-chunked.bin"
        chunked_digest = make_blob(chunked, size)
        phases = {}
        sampler = RssSampler(server)
        sampler.start()
        t = push_monolithic(server, blob, digest)
        phases["monolithic PUT"] = (t, sampler.peak)
        t = pull(server, digest, size)
        phases["GET"] = (t, sampler.peak)
        # Same content again through a streamed PATCH (a registry may keep one copy;
        # the upload still has to be read and hashed).
        t = push_streamed_patch(server, blob, digest)
        phases["PATCH (chunked encoding) + PUT"] = (t, sampler.peak)
        t = push_in_chunks(server, chunked, chunked_digest)
        phases["4 PATCHes with ranges + PUT"] = (t, sampler.peak)
        peak = sampler.finish()
        blob.unlink()
        chunked.unlink()
        after = server.rss_kib() or 0
    finally:
        server.stop()

    growth = (peak - before) / 1024
    log(f"  samples every 50 ms; RSS before {before / 1024:.1f} MiB")
    for name, (secs, p) in phases.items():
        log(f"  {name:32s} {mib_s(size, secs):8.0f} MiB/s   peak so far {p / 1024:.1f} MiB")
    log(f"  peak RSS {peak / 1024:.1f} MiB, growth {growth:.1f} MiB for a {size // MIB} MiB blob; after {after / 1024:.1f} MiB")
    ok = growth <= max_growth_mib
    log(f"  memory: {'flat' if ok else 'NOT FLAT'} (limit: growth <= {max_growth_mib} MiB)")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=256, help="blob size for throughput runs (default 256)")
    ap.add_argument("--runs", type=int, default=5, help="runs per registry and direction (default 5)")
    ap.add_argument("--memory-mib", type=int, default=1024, help="blob size for the memory check (default 1024)")
    ap.add_argument("--max-growth-mib", type=int, default=128, help="allowed RSS growth in the memory check")
    ap.add_argument("--smoke", action="store_true", help="small and quick (16 MiB x 1 run, 256 MiB memory check), for CI")
    ap.add_argument("--no-reference", action="store_true", help="skip docker-registry")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory check")
    ap.add_argument(
        "--storage",
        choices=["disk", "tmpfs"],
        default="disk",
        help="where both registries keep blobs: disk (/tmp) or tmpfs (/dev/shm). On tmpfs fsync is free, "
        "so the comparison is of the registries' CPU cost alone; on disk govstore pays an fsync per blob "
        "that docker-registry never makes",
    )
    ap.add_argument("--binary", type=Path, default=None, help="govstore-server binary (default: GOVSTORE_SERVER_BIN or target/release)")
    args = ap.parse_args()
    if args.smoke:
        args.size_mib, args.runs, args.memory_mib = 16, 1, 256

    binary = args.binary or default_binary()
    if not binary.exists():
        log(f"govstore-server not found at {binary}: cargo build --release -p govstore-server, or set GOVSTORE_SERVER_BIN")
        return 2
    if not shutil.which("curl"):
        log("curl is required")
        return 2
    use_reference = not args.no_reference
    if use_reference and not shutil.which("docker-registry"):
        if args.smoke:
            log("docker-registry not installed: reference registry skipped")
            use_reference = False
        else:
            log("docker-registry not installed (apt-get install docker-registry), or pass --no-reference")
            return 2

    size = args.size_mib * MIB
    parent = "/dev/shm" if args.storage == "tmpfs" else "/tmp"
    work = Path(tempfile.mkdtemp(prefix="govstore-bench-", dir=parent))
    servers: list[Server] = []
    ok = True
    try:
        log(f"binary: {binary}")
        log(f"work dir: {work} (removed at the end); all traffic on 127.0.0.1")
        log(
            "fairness: every push run uploads a fresh random blob that neither registry has seen "
            "(the same bytes to each), so no registry can answer from an existing digest; each pull "
            f"reads the blob just pushed. Both store blobs on the same filesystem ({args.storage}, {parent}), both are "
            "driven by the same curl commands (monolithic PUT streamed from a file with -T, GET to "
            "/dev/null), and the order alternates between runs, and dirty pages are synced before each push. govstore also records metadata "
            "(SQLite); docker-registry has none. Page cache is warm for both. Median of the runs."
        )
        servers.append(start_govstore(binary, work))
        if use_reference:
            servers.append(start_reference(work))
        log(f"throughput: {args.size_mib} MiB blob, {args.runs} run(s)")
        results = throughput(servers, work, size, args.runs)
        log("")
        log(f"{'registry':18s} {'push MiB/s':>12s} {'pull MiB/s':>12s}   (median of {args.runs})")
        med = {}
        for name, r in results.items():
            med[name] = {k: statistics.median(v) for k, v in r.items()}
            log(f"{name:18s} {med[name]['push']:12.0f} {med[name]['pull']:12.0f}")
        if "docker-registry" in med:
            g, ref = med["govstore"], med["docker-registry"]
            log(f"{'govstore/reference':18s} {g['push'] / ref['push']:12.2f} {g['pull'] / ref['pull']:12.2f}")
        for s in servers:
            s.stop()
        servers.clear()

        if not args.no_memory:
            log("")
            log(f"memory check: {args.memory_mib} MiB blob through govstore")
            ok = memory_check(binary, work, args.memory_mib * MIB, args.max_growth_mib)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
