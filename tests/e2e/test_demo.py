"""`govstore-server serve --demo`: the example catalogue published, signed, at start.

The server runs without `--insecure-anonymous-push`; the test uses only what the demo
prints (URL and admin token) and writes (the demo keys), through the `govstore` CLI.
"""

from __future__ import annotations

import re
import stat

import requests

from e2e_helpers import CATALOG, copy_package, package_manifest, spki_key_id

VERIFIED = ["mosip-esignet", "x-road-security-server"]


def catalogue_packages() -> list[str]:
    return sorted(d.name for d in CATALOG.iterdir() if (d / "govstore.toml").is_file())


def test_demo_catalogue_is_signed_and_searchable(registry_factory, govstore, work_dir):
    reg = registry_factory(anonymous_push=False, demo=True)
    out = reg.stdout_path.read_text()
    m = re.search(r"govstore demo on (\S+): (\d+) specs, (\d+) packages published, (\d+) already there", out)
    assert m, out
    assert m[1] == reg.url, out
    assert int(m[2]) == len(list((CATALOG / "specs").glob("*.toml"))), out
    assert int(m[3]) == len(catalogue_packages()) and m[4] == "0", out
    assert reg.demo_token and reg.demo_token.startswith("gvs_"), out

    # The printed token logs in.
    login = govstore.json("login", "--token", reg.demo_token, registry=reg.url)
    assert login["me"]["user"] and login["me"]["token"]["scopes"], login

    demo_keys = reg.data_dir / "demo-keys"
    for pkg in VERIFIED:
        name = package_manifest(pkg)["package"]["name"]
        version = package_manifest(pkg)["package"]["version"]
        ns = name.split("/")[0]
        ref = f"{name}@{version}"
        res = govstore.run("verify", ref)
        assert f"verified {name} {version}" in res.text, res.describe()
        report = govstore.json("verify", ref)
        # Signed with the namespace's demo key written to DATA/demo-keys.
        pub = (demo_keys / f"{ns}.pub").read_text()
        assert report["key_id"] == spki_key_id(pub), (report, pub)
        assert report["namespace"] == ns and report["yanked"] is False, report
        assert f"signed by: namespace {ns} with key {report['key_id']}" in res.text, res.describe()
        assert stat.S_IMODE((demo_keys / f"{ns}.key").stat().st_mode) == 0o600

    # Search finds X-Road, at its newest version.
    found = govstore.json("search", "x-road")
    hits = {h["name"]: h for h in found["results"]}
    assert "x-road/security-server" in hits, found
    assert hits["x-road/security-server"]["version"] == "7.8.0", found
    assert "x-road/security-server 7.8.0" in govstore.run("search", "x-road").text
    info = govstore.json("info", "x-road/security-server")
    assert {v["version"] for v in info["versions"]} == {"7.5.2", "7.8.0"} and info["latest"] == "7.8.0", info

    # Every catalogue package is listed.
    listed = {p["name"] for p in requests.get(reg.api("packages"), timeout=10).json()["packages"]}
    expected = {package_manifest(p)["package"]["name"] for p in catalogue_packages()}
    assert expected <= listed, sorted(expected - listed)

    # No anonymous pushes: an upload without a token is refused.
    r = requests.post(reg.v2("x-road/security-server/blobs/uploads/"), timeout=10)
    assert r.status_code == 401, (r.status_code, r.text)

    # The demo key (password `demo`) signs a new version with the demo token.
    pkg = copy_package("x-road-security-server", work_dir / "xroad", version="7.8.1")
    res = govstore.run("publish", pkg, "--key", demo_keys / "x-road.key", json_out=True, env={"GOVSTORE_KEY_PASSWORD": "demo"})
    assert res.json()["version"] == "7.8.1", res.describe()
    assert govstore.json("info", "x-road/security-server")["latest"] == "7.8.1"
    xroad_key = spki_key_id((demo_keys / "x-road.pub").read_text())
    assert govstore.json("verify", "x-road/security-server@7.8.1")["key_id"] == xroad_key

    # The demo bundle: SL/national-id@2026.1, signed by 2 of SL's approvers, with the
    # commands that pin SL's keys and pull it.
    m = re.search(r"demo bundle (SL/national-id@2026\.1) \(made now, [^)]*\): (\S+)", out)
    assert m, out
    assert m[2] == f"{reg.url}/countries/SL/bundles/national-id/2026.1", out
    m = re.search(r"pin SL's approver keys: (govstore trust add SL (?:--key sha256:[0-9a-f]{64} )+--threshold 2)$", out, re.M)
    assert m, out
    pinned = re.findall(r"--key (sha256:[0-9a-f]{64})", m[1])
    country = requests.get(reg.api("countries/SL"), timeout=10)
    assert country.status_code == 200, country.text
    unrevoked = [k["key_id"] for k in country.json()["keys"] if not k["revoked_at"]]
    assert pinned == unrevoked, (pinned, country.json())
    assert len(pinned) == 4, m[1]  # amara, kofi, fatmata and the server-held key
    assert f"pull the bundle: govstore --registry {reg.url} pull SL/national-id@2026.1 --into DIR" in out, out
    state = requests.get(reg.api("countries/SL/bundles/national-id/2026.1"), timeout=10)
    assert state.status_code == 200, state.text
    state = state.json()
    assert state["threshold_met"] is True and state["threshold"] == 2, state
    assert len(state["signatures"]) == 2 and {s["signer"] for s in state["signatures"]} == {"amara", "kofi"}, state
    assert {(m["name"], m["version"]) for m in state["members"]} == {
        ("mosip/esignet", "1.8.0"),
        ("x-road/security-server", "7.8.0"),
    }, state
    assert all(m["approved"] for m in state["members"]), state
    page = requests.get(f"{reg.url}/countries/SL/bundles/national-id/2026.1", timeout=10)
    assert page.status_code == 200 and "govstore pull SL/national-id@2026.1 --into DIR" in page.text
