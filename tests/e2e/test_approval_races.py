"""Approval recording under real concurrency and under a killed server (invariant 23),
on SQLite and on PostgreSQL.

A country SL (threshold 2) approves versions of mosip/esignet. Statements are submitted
by separate OS processes started together: `govstore approve` run by three approvers at
once beside four processes POSTing the same pre-signed envelope, and later workers
POSTing many distinct approvals and revocations while the test SIGKILLs the server and
restarts it on the same data directory and database. Afterwards everything a ministry
would check must agree, envelope by envelope: the approval rows (per country and per
package), the cosign `sha256-<hex>.att` manifest's layers (readable blobs holding the
envelope bytes), the OCI referrers, and the `approval_recorded` events; and the state the
API reports equals a tally recomputed here from the recorded envelopes.

Envelopes made here are signed in Python (`cryptography`) with keys generated here and
registered by the approvers who hold them (see test_approvals.PyApprover).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import requests

from e2e_helpers import OCI_MANIFEST, bootstrap_publisher, copy_package, spec_files_for
from test_approvals import PREDICATE, Country, PyApprover, digest_of, verify_envelope

PKG_SRC = "mosip-esignet"
NAME = "mosip/esignet"
DSSE = "application/vnd.dsse.envelope.v1+json"
CC = "SL"

# A worker: waits for START_AT (wall clock), then POSTs its envelopes in order, one JSON
# line per answer (flushed, so the test can watch progress). With `until`, it keeps
# POSTing its list again until that file exists (at most `max_rounds` rounds).
WORKER = r"""
import json, os, sys, time
import requests
job = json.load(open(sys.argv[1]))
out = open(job["out"], "a", buffering=1)
delay = job["start_at"] - time.time()
if delay > 0:
    time.sleep(delay)
s = requests.Session()
rounds = 0
while True:
    for token, body in job["posts"]:
        try:
            r = s.post(job["url"], data=body.encode(), timeout=60,
                       headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            try:
                rec = r.json().get("recorded")
            except ValueError:
                rec = None
            line = {"status": r.status_code, "recorded": rec, "text": r.text[:300] if r.status_code >= 300 else ""}
        except requests.RequestException as e:
            s = requests.Session()
            line = {"status": "conn", "recorded": None, "text": e.__class__.__name__}
        line["digest"] = job["digests"][body]
        out.write(json.dumps(line) + "\n")
    rounds += 1
    if not job.get("until") or os.path.exists(job["until"]) or rounds >= job.get("max_rounds", 1):
        break
"""


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_envelope(py: PyApprover, version: str, digest: str, *, decision: str, signed_at: int, reason=None) -> str:
    """The envelope's exact JSON text (what is POSTed and what the server digests)."""
    pred = {"country": CC, "decision": decision, "signedAt": rfc3339(signed_at)}
    if reason:
        pred["reason"] = reason
    st = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": f"{NAME}@{version}", "digest": {"sha256": digest.removeprefix("sha256:")}}],
        "predicateType": PREDICATE,
        "predicate": pred,
    }
    return json.dumps(py.envelope(st))


def start_workers(reg, tmp: Path, label: str, jobs: list[list[tuple[str, str]]], *, start_in: float = 0.5,
                  until: Path | None = None, max_rounds: int = 1) -> tuple[list[subprocess.Popen], list[Path]]:
    """One OS process per job (a list of (token, envelope text)), all released at once."""
    start_at = time.time() + start_in
    procs, outs = [], []
    for i, posts in enumerate(jobs):
        out = tmp / f"{label}-worker{i}.jsonl"
        spec = tmp / f"{label}-worker{i}.json"
        spec.write_text(json.dumps({
            "url": reg.api(f"countries/{CC}/approvals"),
            "start_at": start_at,
            "posts": posts,
            "digests": {body: sha256(body.encode()) for _, body in posts},
            "out": str(out),
            "until": str(until) if until else None,
            "max_rounds": max_rounds,
        }))
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, str(spec)], stdin=subprocess.DEVNULL))
        outs.append(out)
    return procs, outs


def answers_of(outs: list[Path]) -> list[dict]:
    lines = []
    for out in outs:
        if out.exists():
            lines += [json.loads(l) for l in out.read_text().splitlines() if l.strip()]
    return lines


def wait_all(procs: list[subprocess.Popen], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for p in procs:
        rc = p.wait(timeout=max(1.0, deadline - time.monotonic()))
        assert rc == 0, f"worker {p.args} exited {rc}"


def all_events(reg) -> list[dict]:
    events, after = [], 0
    while True:
        r = requests.get(reg.api("events"), params={"after": after, "limit": 1000}, timeout=30)
        r.raise_for_status()
        body = r.json()
        events += body["events"]
        if not body["events"] or "next" not in body:
            return events
        after = body["events"][-1]["seq"]


def referrer_layers(reg, digest: str) -> list[str]:
    """The envelope digests of the DSSE referrers of DIGEST (following pagination)."""
    url, layers = reg.v2(f"{NAME}/referrers/{digest}"), []
    while url:
        r = requests.get(url, timeout=30)
        assert r.status_code == 200, r.text
        for m in r.json()["manifests"]:
            if m.get("artifactType") != DSSE:
                continue
            doc = requests.get(reg.v2(f"{NAME}/manifests/{m['digest']}"), headers={"Accept": OCI_MANIFEST}, timeout=30)
            assert doc.status_code == 200, doc.text
            assert sha256(doc.content) == m["digest"]
            body = doc.json()
            assert body["subject"]["digest"] == digest, body
            [layer] = body["layers"]
            layers.append(layer["digest"])
        link = r.headers.get("Link")
        url = reg.url + link.split(";")[0].strip("<> ") if link else None
    return layers


def att_layers(reg, digest: str) -> list[str]:
    """The layer digests of the cosign attestation manifest `sha256-<hex>.att` ([] if none)."""
    tag = digest.replace("sha256:", "sha256-") + ".att"
    r = requests.get(reg.v2(f"{NAME}/manifests/{tag}"), headers={"Accept": OCI_MANIFEST}, timeout=30)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, r.text
    layers = r.json()["layers"]
    assert all(l["mediaType"] == DSSE for l in layers), layers
    return [l["digest"] for l in layers]


def check_consistent(reg, versions: dict[str, str], envelopes: dict[str, str], keys: dict[str, str]) -> dict[str, list]:
    """Everything recorded about NAME's VERSIONS (version -> manifest digest) agrees,
    envelope by envelope; returns each version's recorded rows, oldest first.
    ENVELOPES: every envelope text submitted, by digest; KEYS: public PEM by key id."""
    r = requests.get(reg.api(f"countries/{CC}/approvals"), params={"limit": 500}, timeout=30)
    r.raise_for_status()
    rows = list(reversed(r.json()["statements"]))  # oldest first
    assert len(rows) < 500, "more statements than one page; the test must submit fewer"
    recorded = [row["statement_digest"] for row in rows]
    assert len(recorded) == len(set(recorded)), f"an envelope recorded twice: {Counter(recorded).most_common(3)}"
    assert set(recorded) <= set(envelopes), "a row for an envelope nobody submitted"

    # The package's own listing holds the same rows, each once.
    r = requests.get(reg.api(f"packages/{NAME}/approvals"), timeout=30)
    r.raise_for_status()
    pkg = r.json()["approvals"]
    listed = [s["statement_digest"] for v in pkg if v["country"] == CC for s in v["statements"]]
    assert sorted(listed) == sorted(recorded), "package approvals differ from the country's"

    # Exactly one approval_recorded event per recorded envelope, none for others.
    evs = [e["event"] for e in all_events(reg) if e["event"]["type"] == "approval_recorded"]
    by_env = Counter(e["statement_digest"] for e in evs)
    assert by_env == Counter(recorded), (
        f"events vs rows: extra {sorted(set(by_env) - set(recorded))}, missing {sorted(set(recorded) - set(by_env))}, "
        f"duplicated {[d for d, n in by_env.items() if n > 1]}"
    )

    per_version = {}
    for version, digest in versions.items():
        mine = [row for row in rows if row["digest"] == digest]
        assert all(row["version"] == version for row in mine)
        want = [row["statement_digest"] for row in mine]
        for e in evs:
            if e["statement_digest"] in want:
                assert e["digest"] == digest and e["version"] == version and e["country"] == CC, e
        # The .att manifest lists every recorded envelope of this digest once, oldest first.
        att = att_layers(reg, digest)
        assert att == want, f"{version}: .att layers {len(att)} vs rows {len(want)}; missing " \
            f"{sorted(set(want) - set(att))}, extra {sorted(set(att) - set(want))}"
        # One referrer per recorded envelope, none for others.
        refs = referrer_layers(reg, digest)
        assert Counter(refs) == Counter(want), f"{version}: referrers {Counter(refs)} vs rows {want}"
        # Every layer blob is readable and holds exactly the envelope bytes submitted.
        for d in att:
            blob = requests.get(reg.v2(f"{NAME}/blobs/{d}"), timeout=30)
            assert blob.status_code == 200, (d, blob.status_code)
            assert blob.content == envelopes[d].encode(), f"blob {d} is not the envelope"
        for row in mine:
            env = json.loads(envelopes[row["statement_digest"]])
            verify_envelope(env, keys[row["key_id"]])
        per_version[version] = mine
    return per_version


def python_tally(statements: list[dict], threshold: int) -> tuple[bool, int, int | None]:
    """(approved, approving keys, cutoff) from the statements (oldest first): the latest
    revocation cancels approvals signed at or before it; distinct keys; no expiry here."""
    revs = [s["signed_at"] for s in statements if s["decision"] == "revoked"]
    cutoff = max(revs) if revs else None
    keys = {s["key_id"] for s in statements if s["decision"] == "approved" and (cutoff is None or s["signed_at"] > cutoff)}
    approved = len(keys) >= threshold
    return approved, len(keys), None if approved else cutoff


def publish_versions(reg, govstore, tmp: Path, versions: list[str]) -> dict[str, str]:
    publisher = bootstrap_publisher(
        reg, govstore.as_user(tmp / "pub-mosip-config"), tmp, user="pub-mosip", namespace="mosip",
        specs=spec_files_for(PKG_SRC),
    )
    out = {}
    for v in versions:
        published = publisher.publish(copy_package(PKG_SRC, tmp / "sources" / v, version=v))
        out[v] = published["digest"]
        assert digest_of(reg, NAME, v) == out[v]
    return out


def py_key_for(reg, approver: dict) -> PyApprover:
    """A key generated here, registered for SL by the approver who holds it."""
    py = PyApprover()
    r = requests.post(reg.api("namespaces/sl/keys"), json={"public_key": py.public_pem, "name": "python"},
                      headers={"Authorization": f"Bearer {approver['token']}"}, timeout=30)
    assert r.status_code == 201, r.text
    return py


def test_concurrent_approvals_each_recorded_once(signed_registry, govstore, tmp_path):
    reg = signed_registry
    sl = Country(reg, govstore, tmp_path, CC, threshold=2, approvers=3)
    [(version, digest)] = publish_versions(reg, govstore, tmp_path, ["1.8.0"]).items()
    # The pre-signed envelope: a key made here, held by approver 0 (its second key).
    py = py_key_for(reg, sl.approvers[0])
    shared = signed_envelope(py, version, digest, decision="approved", signed_at=int(time.time()))
    shared_digest = sha256(shared.encode())
    keys = {a["key_id"]: a["pub"] for a in sl.approvers} | {py.key_id: py.public_pem}

    # Released together: 4 processes POST the same envelope (and keep POSTing it while
    # the approvers' CLIs run), and the 3 approvers run `govstore approve` at once.
    stop = tmp_path / "cli-done"
    procs, outs = start_workers(reg, tmp_path, "dup", [[(sl.approvers[0]["token"], shared)]] * 4,
                                start_in=0.3, until=stop, max_rounds=200)
    time.sleep(0.25)
    clis = [
        a["cli"].popen("approve", f"{NAME}@{version}", "--country", CC, "--key", a["key"],
                       registry=reg.url, token=a["token"], json_out=True)
        for a in sl.approvers
    ]
    cli_out = []
    for p in clis:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"{p.cmd} exited {p.returncode}\n{err.decode(errors='replace')}"
        cli_out.append(json.loads(out))
    stop.touch()
    wait_all(procs)

    answers = answers_of(outs)
    assert len(answers) >= 4 and all(a["digest"] == shared_digest for a in answers)
    assert {a["status"] for a in answers} <= {200, 201}, [a for a in answers if a["status"] not in (200, 201)][:3]
    assert sum(a["recorded"] is True for a in answers) == 1, Counter((a["status"], a["recorded"]) for a in answers)
    assert all(a["recorded"] is False and a["status"] == 200 for a in answers if a["status"] != 201)
    assert all(o["recorded"] is True for o in cli_out), cli_out
    assert {o["key_id"] for o in cli_out} == {a["key_id"] for a in sl.approvers}

    # Each distinct envelope exactly once everywhere: rows, .att layers, referrers, events.
    envelopes = {shared_digest: shared}
    for o in cli_out:
        blob = requests.get(reg.v2(f"{NAME}/blobs/{o['statement_digest']}"), timeout=30)
        assert blob.status_code == 200 and sha256(blob.content) == o["statement_digest"], o
        assert json.loads(blob.content) == o["envelope"]
        envelopes[o["statement_digest"]] = blob.content.decode()
    rows = check_consistent(reg, {version: digest}, envelopes, keys)[version]
    assert sorted(r["statement_digest"] for r in rows) == sorted(envelopes), "an envelope was lost"

    # The version is approved by the four distinct keys (approver 0 holds two).
    r = requests.get(reg.api(f"packages/{NAME}/approvals"), timeout=30)
    [state] = [v["state"] for v in r.json()["approvals"] if v["version"] == version and v["country"] == CC]
    assert state["approved"] is True and state["approvals"] == 4 and state["threshold"] == 2, state
    idx = requests.get(reg.api(f"index/packages/{NAME}"), timeout=30).json()
    [entry] = [v for v in idx["versions"] if v["version"] == version]
    assert len(entry["approvals"]) == 4, entry["approvals"]
    for a in entry["approvals"]:
        verify_envelope(a["envelope"], keys[a["envelope"]["signatures"][0]["keyid"]])


def test_server_killed_while_approving_leaves_no_half_written_approval(signed_registry, govstore, tmp_path):
    reg = signed_registry
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    print(f"seed {seed}")
    sl = Country(reg, govstore, tmp_path, CC, threshold=2, approvers=3)
    versions = publish_versions(reg, govstore, tmp_path, ["1.8.0", "1.8.1", "1.9.0"])
    pys = [py_key_for(reg, a) for a in sl.approvers]
    tokens = {py.key_id: a["token"] for py, a in zip(pys, sl.approvers)}
    keys = {py.key_id: py.public_pem for py in pys}

    # Approve and revoke rounds over every version: distinct envelopes, signedAt spread
    # over the next minutes (ties included) so revocations fall before and after approvals.
    base = int(time.time()) + 1
    envelopes: dict[str, str] = {}
    owner: dict[str, str] = {}
    for version, digest in versions.items():
        for rnd in range(10):
            for py in pys:
                revoke = rng.random() < 0.2
                text = signed_envelope(
                    py, version, digest, decision="revoked" if revoke else "approved",
                    signed_at=base + rng.randrange(0, 200),
                    reason=f"round {rnd}: finding {rng.randrange(10**6)}" if revoke else None,
                )
                d = sha256(text.encode())
                envelopes[d], owner[d] = text, py.key_id
    every = list(envelopes)
    answers: list[dict] = []

    def jobs() -> list[list[tuple[str, str]]]:
        """Four workers: each envelope to one of them, and a fifth of them to another too."""
        order = every[:]
        rng.shuffle(order)
        out = [[] for _ in range(4)]
        for i, d in enumerate(order):
            out[i % 4].append((tokens[owner[d]], envelopes[d]))
            if rng.random() < 0.2:
                out[(i + 1 + rng.randrange(3)) % 4].append((tokens[owner[d]], envelopes[d]))
        return out

    # Two bursts, each with the server SIGKILLed once some answers came back, then a
    # restart on the same data; after each, everything recorded must be whole.
    for burst in range(2):
        procs, outs = start_workers(reg, tmp_path, f"kill{burst}", jobs(), start_in=0.3)
        kill_after = rng.randrange(5, len(every) // 2)
        deadline = time.monotonic() + 60
        while len(answers_of(outs)) < kill_after and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.random() * 0.05)
        reg.proc.send_signal(signal.SIGKILL)
        reg.proc.wait(timeout=10)
        wait_all(procs)
        got = answers_of(outs)
        answers += got
        assert {a["status"] for a in got} <= {200, 201, "conn"}, [a for a in got if a["status"] not in (200, 201, "conn")][:3]
        assert any(a["status"] == "conn" for a in got), "the kill came after every answer"
        print(f"burst {burst}: killed after {kill_after} answers; answers {Counter(a['status'] for a in got)}")
        reg.restart()
        rows = check_consistent(reg, versions, envelopes, keys)
        have = {r["statement_digest"] for rs in rows.values() for r in rs}
        # What was answered as recorded survived the kill.
        acked = {a["digest"] for a in got if a["status"] in (200, 201)}
        assert acked <= have, f"answered but lost: {sorted(acked - have)[:3]}"

    # Everything again, released together: each envelope ends up recorded exactly once.
    procs, outs = start_workers(reg, tmp_path, "again", jobs(), start_in=0.3)
    wait_all(procs)
    got = answers_of(outs)
    answers += got
    assert {a["status"] for a in got} <= {200, 201}, [a for a in got if a["status"] not in (200, 201)][:3]
    rows = check_consistent(reg, versions, envelopes, keys)
    have = [r["statement_digest"] for rs in rows.values() for r in rs]
    assert sorted(have) == sorted(every), "not every envelope recorded exactly once"
    created = Counter(a["digest"] for a in answers if a["status"] == 201)
    assert all(n == 1 for n in created.values()), [d for d, n in created.items() if n > 1]
    assert all(a["recorded"] is (a["status"] == 201) for a in answers if a["status"] != "conn")

    # The state the API reports is the tally recomputed here from the recorded envelopes.
    r = requests.get(reg.api(f"packages/{NAME}/approvals"), timeout=30)
    r.raise_for_status()
    states = {v["version"]: v["state"] for v in r.json()["approvals"] if v["country"] == CC}
    for version, digest in versions.items():
        statements = []
        for row in rows[version]:
            env = json.loads(envelopes[row["statement_digest"]])
            s = json.loads(base64.b64decode(env["payload"]))
            assert s["subject"][0]["digest"]["sha256"] == digest.removeprefix("sha256:")
            signed_at = int(datetime.strptime(s["predicate"]["signedAt"], "%Y-%m-%dT%H:%M:%SZ")
                            .replace(tzinfo=timezone.utc).timestamp())
            statements.append({"decision": s["predicate"]["decision"], "signed_at": signed_at,
                               "key_id": env["signatures"][0]["keyid"]})
        approved, n, cutoff = python_tally(statements, 2)
        st = states[version]
        got_cutoff = st["revoked"] and int(datetime.strptime(st["revoked"]["signed_at"], "%Y-%m-%dT%H:%M:%SZ")
                                            .replace(tzinfo=timezone.utc).timestamp())
        assert (st["approved"], st["approvals"], got_cutoff or None) == (approved, n, cutoff), (version, st, statements)
