"""Replicas follow the event sequence: two `govstore-server` processes on one
PostgreSQL database, each with its own data directory (blobs aside, each keeps its own
search index), see each other's publishes and yanks in search; a replica killed with
SIGKILL while the other publishes shows the new version as soon as it is back, without
a rebuild (its index holds as many documents as before).
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
import requests

from conftest import _wait_ready, free_port, server_env
from e2e_helpers import bootstrap_publisher, copy_package, package_manifest, spec_files_for

PKG = "mosip-esignet"
NAME = package_manifest(PKG)["package"]["name"]
NS = NAME.split("/")[0]
FOLLOW_TIMEOUT = 15.0


def start_replica(reg, work_dir, name: str):
    """A second server process on `reg`'s database, with a data dir and port of its own."""
    data = work_dir / f"{name}-data"
    data.mkdir()
    port = free_port()
    args = list(reg.args)
    args[args.index("--listen") + 1] = f"127.0.0.1:{port}"
    args[args.index("--data-dir") + 1] = str(data)
    log_path = work_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=server_env())
    replica = type(reg)(
        backend=reg.backend, port=port, proc=proc, log_path=log_path, data_dir=data, args=args, database=None
    )
    _wait_ready(replica)
    return replica


def hit(reg, q: str):
    r = requests.get(reg.api("search"), params={"q": q}, timeout=10)
    assert r.status_code == 200, r.text
    hits = r.json()["results"]
    return next((h for h in hits if h["name"] == NAME), None)


def wait_for(reg, q: str, check, what: str):
    deadline = time.monotonic() + FOLLOW_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        last = hit(reg, q)
        if last is not None and check(last):
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not seen within {FOLLOW_TIMEOUT}s; last hit {last}\n--- log ---\n{reg.log_tail()}")


@pytest.fixture
def pg_registry(signed_registry, backend):
    if backend != "postgres":
        pytest.skip("several server processes share one database on PostgreSQL")
    return signed_registry


def test_two_processes_on_one_database_follow_each_other(pg_registry, govstore, work_dir):
    a = pg_registry
    b = start_replica(a, work_dir, "replica-b")
    try:
        alice = bootstrap_publisher(a, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
        pkg = copy_package(PKG, work_dir / "pkg-1", version="1.0.0")
        govstore.run("publish", pkg, "--key", alice.key, registry=a.url)
        wait_for(b, "esignet", lambda h: h["version"] == "1.0.0", "B sees A's publish")

        # The other way round: publish through B, A's index follows.
        pkg = copy_package(PKG, work_dir / "pkg-2", version="1.1.0")
        govstore.run("publish", pkg, "--key", alice.key, registry=b.url, token=alice.token)
        wait_for(a, "esignet", lambda h: h["version"] == "1.1.0", "A sees B's publish")

        govstore.run("yank", f"{NAME}@1.1.0", "--reason", "broken", registry=a.url)
        wait_for(b, "esignet", lambda h: h["version"] == "1.0.0", "B sees A's yank (latest falls back)")

        # Both report the same sequence.
        ea = requests.get(a.api("events"), timeout=10).json()
        eb = requests.get(b.api("events"), timeout=10).json()
        assert ea == eb and ea["last"] == len(ea["events"]), (ea, eb)
        assert [e["event"]["type"] for e in ea["events"]][-3:] == [
            "version_published",
            "version_published",
            "version_yanked",
        ], ea
    finally:
        b.stop()


def test_a_killed_replica_catches_up_when_it_restarts(pg_registry, govstore, work_dir):
    a = pg_registry
    alice = bootstrap_publisher(a, govstore, work_dir, namespace=NS, specs=spec_files_for(PKG))
    pkg = copy_package(PKG, work_dir / "pkg-1", version="1.0.0")
    govstore.run("publish", pkg, "--key", alice.key, registry=a.url)
    b = start_replica(a, work_dir, "replica-b")
    try:
        assert hit(b, "esignet")["version"] == "1.0.0"
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait(timeout=10)

        # While B is down: a new version of the same package, so B's index still holds
        # as many documents as the database has packages (no rebuild at start).
        pkg = copy_package(PKG, work_dir / "pkg-2", version="1.1.0")
        govstore.run("publish", pkg, "--key", alice.key, registry=a.url)

        b.restart()
        # The first answer after the restart already has it: B caught up before serving.
        assert hit(b, "esignet")["version"] == "1.1.0", b.log_tail()
        assert "caught up with the event sequence" in b.log_tail(), b.log_tail()
    finally:
        b.stop()
