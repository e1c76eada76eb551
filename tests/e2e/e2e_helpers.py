"""Helpers for the end-to-end tests: OCI image layouts, digests, running skopeo and the
govstore command line, bootstrapping a publisher."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
REF_NAME = "org.opencontainers.image.ref.name"

MIB = 1024 * 1024


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def descriptor(media_type: str, data: bytes, **extra) -> dict:
    d = {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data)}
    d.update(extra)
    return d


def make_layer(payload_size: int, name: str) -> tuple[bytes, str]:
    """A deterministic-format tar+gzip layer holding ``payload_size`` random bytes.

    Returns (compressed bytes, diff_id of the uncompressed tar). Random content
    makes every test run push blobs the registry has never seen.
    """
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"govstore-e2e/{name}.bin")
        info.size = payload_size
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(os.urandom(payload_size)))
    tar_bytes = raw.getvalue()
    gz = gzip.compress(tar_bytes, compresslevel=1, mtime=0)
    return gz, sha256_digest(tar_bytes)


@dataclass
class Image:
    manifest: bytes
    config: bytes
    layers: list[bytes]
    media_type: str = OCI_MANIFEST

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def layer_digests(self) -> list[str]:
        return [sha256_digest(b) for b in self.layers]

    def blobs(self) -> dict[str, bytes]:
        out = {sha256_digest(self.config): self.config}
        for b in self.layers:
            out[sha256_digest(b)] = b
        return out


def make_image(layer_sizes: list[int], arch: str = "amd64", label: str = "e2e") -> Image:
    layers, diff_ids = [], []
    for i, size in enumerate(layer_sizes):
        gz, diff_id = make_layer(size, f"{label}-layer{i}")
        layers.append(gz)
        diff_ids.append(diff_id)
    config = canonical_json(
        {
            "created": "2026-01-01T00:00:00Z",
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["GOVSTORE_E2E=1"], "Cmd": ["/bin/true"], "Labels": {"test": label}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2026-01-01T00:00:00Z", "created_by": f"e2e layer {i}"} for i in range(len(layers))],
        }
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": [descriptor(OCI_LAYER_GZIP, b) for b in layers],
        "annotations": {"org.opencontainers.image.title": f"govstore e2e {label}"},
    }
    # Indented on purpose: a registry must keep the bytes, not re-serialise the JSON.
    return Image(manifest=json.dumps(manifest, indent=3).encode(), config=config, layers=layers)


def make_index(images: dict[str, Image]) -> bytes:
    """An OCI image index over per-architecture images (key: architecture)."""
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            descriptor(OCI_MANIFEST, img.manifest, platform={"architecture": arch, "os": "linux"})
            for arch, img in images.items()
        ],
        "annotations": {"org.opencontainers.image.title": "govstore e2e index"},
    }
    return json.dumps(index, indent=2).encode()


class Layout:
    """An OCI image layout directory (image-spec image-layout.md)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, path: Path) -> "Layout":
        path = Path(path)
        (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (path / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        (path / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}))
        return cls(path)

    def blob_path(self, digest: str) -> Path:
        algo, hexpart = digest.split(":", 1)
        return self.path / "blobs" / algo / hexpart

    def write_blob(self, data: bytes) -> str:
        digest = sha256_digest(data)
        self.blob_path(digest).write_bytes(data)
        return digest

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    def index(self) -> dict:
        return json.loads((self.path / "index.json").read_text())

    def add_ref(self, tag: str, media_type: str, data: bytes) -> None:
        index = self.index()
        index["manifests"] = [m for m in index["manifests"] if m.get("annotations", {}).get(REF_NAME) != tag]
        index["manifests"].append(descriptor(media_type, data, annotations={REF_NAME: tag}))
        (self.path / "index.json").write_text(json.dumps(index, indent=2))

    def add_image(self, tag: str, image: Image) -> None:
        for data in image.blobs().values():
            self.write_blob(data)
        self.write_blob(image.manifest)
        self.add_ref(tag, image.media_type, image.manifest)

    def add_index(self, tag: str, images: dict[str, Image]) -> bytes:
        for img in images.values():
            for data in img.blobs().values():
                self.write_blob(data)
            self.write_blob(img.manifest)
        index = make_index(images)
        self.write_blob(index)
        self.add_ref(tag, OCI_INDEX, index)
        return index

    def ref(self, tag: str) -> dict:
        for m in self.index()["manifests"]:
            if m.get("annotations", {}).get(REF_NAME) == tag:
                return m
        raise KeyError(f"no ref {tag!r} in {self.path}/index.json: {self.index()}")


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: bytes
    stderr: str
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.stdout.decode(errors="replace")

    def json(self):
        return json.loads(self.stdout)

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.args)}\nexit status {self.returncode}\n"
            f"--- stdout ---\n{self.text[-4000:]}\n--- stderr ---\n{self.stderr[-8000:]}"
        )


class Skopeo:
    """Runs skopeo with isolated auth and a permissive policy, over plain HTTP."""

    def __init__(self, work: Path):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.authfile = self.work / "auth.json"
        self.authfile.write_text('{"auths":{}}')
        self.tmpdir = self.work / "skopeo-tmp"
        self.tmpdir.mkdir(exist_ok=True)

    def run(self, *args: str, check: bool = True, debug: bool = False, timeout: float = 300) -> Result:
        cmd = ["skopeo", "--insecure-policy", "--tmpdir", str(self.tmpdir)]
        if debug:
            cmd.append("--debug")
        cmd += list(args)
        env = dict(os.environ)
        env["REGISTRY_AUTH_FILE"] = str(self.authfile)
        env.setdefault("XDG_RUNTIME_DIR", str(self.work))
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
        res = Result(cmd, p.returncode, p.stdout, p.stderr.decode(errors="replace"))
        if check and p.returncode != 0:
            raise AssertionError("skopeo failed\n" + res.describe())
        return res

    def copy(self, src: str, dest: str, *extra: str, check: bool = True, debug: bool = False) -> Result:
        flags = []
        if dest.startswith("docker://"):
            flags += ["--dest-tls-verify=false", "--dest-authfile", str(self.authfile)]
        if src.startswith("docker://"):
            flags += ["--src-tls-verify=false", "--src-authfile", str(self.authfile)]
        return self.run("copy", "--retry-times", "0", *flags, *extra, src, dest, check=check, debug=debug)

    def remote(self, cmd: str, ref: str, *extra: str, check: bool = True, debug: bool = False) -> Result:
        """inspect / list-tags / delete against a docker:// reference."""
        return self.run(
            cmd, "--tls-verify=false", "--authfile", str(self.authfile), *extra, ref, check=check, debug=debug
        )


# ---------------------------------------------------------------------------------------
# The `govstore` command line and signed publishing
# ---------------------------------------------------------------------------------------

# The password of the private keys the tests make (GOVSTORE_KEY_PASSWORD).
CLI_KEY_PASSWORD = "e2e key password"

# Variables of the caller's environment that would change what the CLI does.
_CLI_ENV_DROP = (
    "GOVSTORE_TOKEN",
    "GOVSTORE_REGISTRY",
    "GOVSTORE_CONFIG_DIR",
    "GOVSTORE_CACHE_DIR",
    "GOVSTORE_KEY_PASSWORD",
    "XDG_CONFIG_HOME",
)

CATALOG = Path(__file__).resolve().parents[2] / "catalog-examples"
SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"


class GovstoreCli:
    """Runs the `govstore` binary with an isolated configuration directory and an
    isolated local cache (`GOVSTORE_CACHE_DIR`, default: `govstore-cache` beside the
    configuration directory)."""

    def __init__(
        self, binary: Path, *, config_dir: Path, password: str = CLI_KEY_PASSWORD, cache_dir: Path | None = None
    ):
        self.binary = Path(binary)
        self.config_dir = Path(config_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else self.config_dir.parent / "govstore-cache"
        self.password = password

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def as_user(self, config_dir: Path) -> "GovstoreCli":
        """The same binary with another configuration directory (another login)."""
        return GovstoreCli(self.binary, config_dir=config_dir, password=self.password, cache_dir=self.cache_dir)

    def with_cache(self, cache_dir: Path) -> "GovstoreCli":
        """The same binary and login with another local cache (`GOVSTORE_CACHE_DIR`)."""
        return GovstoreCli(self.binary, config_dir=self.config_dir, password=self.password, cache_dir=cache_dir)

    def env(self, token: str | None = None, extra: dict | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in _CLI_ENV_DROP}
        env.update(
            {
                "GOVSTORE_CONFIG_DIR": str(self.config_dir),
                "GOVSTORE_CACHE_DIR": str(self.cache_dir),
                "NO_COLOR": "1",
                "GOVSTORE_KEY_PASSWORD": self.password,
            }
        )
        if token is not None:
            env["GOVSTORE_TOKEN"] = token
        env.update(extra or {})
        return env

    def command(self, args, *, registry: str | None = None, json_out: bool = False) -> list[str]:
        cmd = [str(self.binary)]
        if registry:
            cmd += ["--registry", registry]
        if json_out:
            cmd.append("--json")
        return cmd + [str(a) for a in args]

    def run(
        self,
        *args,
        registry: str | None = None,
        token: str | None = None,
        json_out: bool = False,
        check: bool = True,
        input: str | None = None,
        env: dict | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
    ) -> Result:
        """`govstore [--registry R] [--json] ARGS`. `check` asserts exit status 0;
        `token` is passed as GOVSTORE_TOKEN (it wins over the stored login)."""
        cmd = self.command(args, registry=registry, json_out=json_out)
        p = subprocess.run(
            cmd,
            capture_output=True,
            timeout=timeout,
            env=self.env(token, env),
            cwd=cwd,
            input=input.encode() if input is not None else None,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        res = Result(cmd, p.returncode, p.stdout, p.stderr.decode(errors="replace"))
        if check and p.returncode != 0:
            raise AssertionError("govstore failed\n" + res.describe())
        return res

    def json(self, *args, **kwargs):
        """Runs with --json, asserts success and returns the parsed stdout."""
        res = self.run(*args, json_out=True, **kwargs)
        try:
            return res.json()
        except ValueError as e:
            raise AssertionError(f"--json output is not JSON ({e})\n{res.describe()}") from None

    def fail(self, *args, **kwargs) -> Result:
        """Runs a command that must fail: exit status 1 and an `error: ...` line on
        stderr."""
        res = self.run(*args, check=False, **kwargs)
        assert res.returncode == 1, "expected exit status 1\n" + res.describe()
        assert res.stderr.count("error: ") >= 1, "no `error:` line on stderr\n" + res.describe()
        return res

    def popen(self, *args, registry: str | None = None, token: str | None = None, json_out: bool = False):
        """Starts the command without waiting (stdout and stderr piped)."""
        cmd = self.command(args, registry=registry, json_out=json_out)
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=self.env(token)
        )
        proc.cmd = cmd
        return proc


def errors_of(res: Result) -> str:
    """The `error:` and `hint:` lines of a CLI run's stderr (progress lines left out)."""
    return "\n".join(l for l in res.stderr.splitlines() if l.startswith(("error:", "hint:", "  -->")))


def copy_package(src: str, dest: Path, *, version: str | None = None, implements_version: str | None = None) -> Path:
    """Copies catalog-examples/SRC to DEST; optionally changes `package.version` or the
    first `[[implements]]` entry's version (line edits, checked with tomllib)."""
    shutil.copytree(CATALOG / src, dest, symlinks=True)
    manifest = dest / "govstore.toml"
    lines = manifest.read_text().splitlines(keepends=True)
    section, implements_seen = None, 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
            implements_seen += stripped == "[[implements]]"
            continue
        if not (stripped.startswith("version") and "=" in stripped):
            continue
        if version is not None and section == "[package]":
            lines[i] = f'version = "{version}"\n'
        if implements_version is not None and section == "[[implements]]" and implements_seen == 1:
            lines[i] = f'version = "{implements_version}"\n'
    manifest.write_text("".join(lines))
    parsed = tomllib.loads(manifest.read_text())
    if version is not None:
        assert parsed["package"]["version"] == version, parsed["package"]
    if implements_version is not None:
        assert parsed["implements"][0]["version"] == implements_version, parsed["implements"]
    return dest


def package_manifest(src: str) -> dict:
    return tomllib.loads((CATALOG / src / "govstore.toml").read_text())


def spec_files_for(src: str) -> list[Path]:
    """The spec documents in catalog-examples/specs a package refers to."""
    m = package_manifest(src)
    ids = [imp["spec"] for imp in m.get("implements", [])]
    ids += list(m.get("requires", {}).get("specs", {}).keys())
    files = []
    for spec_id in dict.fromkeys(ids):
        ns, name = spec_id.split("/", 1)
        assert ns == "govstack", spec_id
        files.append(CATALOG / "specs" / f"{name}.toml")
    return files


@dataclass
class Publisher:
    """A user who owns a namespace, is logged in with the CLI and has a registered key."""

    user: str
    namespace: str
    token: str
    specs_token: str
    key: Path
    pub: Path
    key_id: str
    cli: "GovstoreCli"
    registry_url: str

    def publish(self, directory: Path, *, key: Path | None = None) -> dict:
        """`govstore --json publish DIR --key KEY`, which must succeed."""
        return self.cli.json("publish", directory, "--key", key or self.key)


def spki_key_id(pem: str) -> str:
    """`sha256:` of the public key's SubjectPublicKeyInfo DER, computed by `cryptography`."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(pem.encode())
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return sha256_digest(der)


def bootstrap_publisher(
    registry,
    cli: GovstoreCli,
    work: Path,
    *,
    user: str = "alice",
    namespace: str = "mosip",
    scopes: tuple[str, ...] = ("publish", "yank", "keys"),
    specs: list[Path] = (),
    key_name: str = "release-laptop",
) -> Publisher:
    """Admin bootstrap (user, organisation, tokens), then with the CLI: keygen, login,
    key register and spec publish. Quiet: the whole flow test checks these steps' output."""
    registry.admin("create-user", user)
    registry.admin("create-org", namespace, "--owner", user)
    token = registry.create_token(user, *(f"{s}:{namespace}" for s in scopes))
    specs_token = registry.create_token(user, "specs")
    keys = work / f"keys-{user}"
    key, pub = keys / "cosign.key", keys / "cosign.pub"
    out = cli.json("keygen", "--key-out", key, "--pub-out", pub)
    cli.run("login", "--token", token, registry=registry.url)
    reg = cli.json("key", "register", "--namespace", namespace, "--key", pub, "--name", key_name)
    assert reg["key_id"] == out["key_id"]
    for spec in specs:
        cli.run("spec", "publish", spec, token=specs_token)
    return Publisher(
        user=user,
        namespace=namespace,
        token=token,
        specs_token=specs_token,
        key=key,
        pub=pub,
        key_id=out["key_id"],
        cli=cli,
        registry_url=registry.url,
    )


def manifest_status(registry, repo: str, reference: str) -> int:
    r = requests.get(registry.v2(f"{repo}/manifests/{reference}"), headers={"Accept": OCI_MANIFEST}, timeout=10)
    return r.status_code


def assert_version_invisible(registry, name: str, version: str, digest: str | None = None) -> None:
    """Nothing of NAME@VERSION (or of manifest DIGEST) can be seen: no tag, no API
    entry, no signature tag, no manifest by digest."""
    assert manifest_status(registry, name, version) == 404, f"tag {name}:{version} exists"
    r = requests.get(registry.api(f"packages/{name}/versions/{version}"), timeout=10)
    assert r.status_code == 404, f"API shows {name}@{version}: {r.status_code} {r.text[:300]}"
    r = requests.get(registry.api(f"packages/{name}"), timeout=10)
    if r.status_code == 200:
        versions = [v["version"] for v in r.json()["versions"]]
        assert version not in versions, f"package lists {version}: {versions}"
    else:
        assert r.status_code == 404, r.text
    if digest:
        assert manifest_status(registry, name, digest) == 404, f"manifest {digest} is in {name}"
        sig_tag = digest.replace(":", "-") + ".sig"
        assert manifest_status(registry, name, sig_tag) == 404, f"signature tag {sig_tag} is in {name}"
        tags = requests.get(registry.v2(f"{name}/tags/list"), timeout=10)
        if tags.status_code == 200:
            assert version not in (tags.json().get("tags") or [])
            assert sig_tag not in (tags.json().get("tags") or [])
