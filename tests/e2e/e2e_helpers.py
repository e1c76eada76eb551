"""Helpers for the end-to-end tests: OCI image layouts, digests, running skopeo."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

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
