"""The prod-like local mode: production settings and code paths against local servers.

    python -m deploy.local.aws run [--port 8000] [--moto-port 5005]

starts, all on 127.0.0.1: SeaweedFS (deploy/local/seaweedfs.py), a real S3 server that checks
signatures, POST policies and expiry, for the media bucket; AWS's DynamoDB Local for the
catalogue and the security state (deploy/local/dynamodb.py: in a private network namespace,
relayed to a random port on 127.0.0.1); moto_server for SSM and CloudFront; and a local
CloudFront edge (deploy/local/edge.py) that serves stream URLs only with a valid CloudFront
signature, from a key pair made at start. It creates the bucket, the secrets, the tables
(`manage.py create_tables`, from the stack's definition), the demo accounts and the demo books
(`ensure_demo_catalogue`, through the upload grants), and serves the app
with VOJ_ENV=production, VOJ_STORAGE=s3, VOJ_DATA_BACKEND=dynamodb, AWS_ENDPOINT_URL_S3 at
SeaweedFS, AWS_ENDPOINT_URL_DYNAMODB at DynamoDB Local, VOJ_AWS_ENDPOINT_URL at moto and
VOJ_CDN_DOMAIN at the edge. Everything is kept in memory or in a directory of the run's own,
the operator database's working copy included: stopping forgets the data, and the next run
starts empty (with the demo accounts and books made again). Ctrl-C or SIGTERM stops it cleanly, exit
status 0.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deploy.cdn_keys import new_key_pair
from deploy.local.dynamodb import DynamoDBLocal
from deploy.local.edge import LocalEdge, SignedUrlVerifier
from deploy.local.processes import die_with_parent, launch_moto, moto_ready
from deploy.local.processes import stop as stop_process
from deploy.local.seaweedfs import SeaweedFS
from deploy.opsdb import KEY
from voj.aws import build_client
from voj.secrets import CLOUDFRONT_PRIVATE_KEY

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-2"
BUCKET = "voj-audiobooks-local"
BOOKS_TABLE = "voj-books-local"
CHAPTERS_TABLE = "voj-audio-chapters-local"
SECURITY_TABLE = "voj-security-local"
LISTENING_TABLE = "voj-listening-local"
SECRETS_PATH = "/voj/local/"
# VOJ_DATA_DIR moves the mode's files (a test runs it beside a developer's own run).
DATA_DIR = Path(os.environ.get("VOJ_DATA_DIR") or ROOT / "var")


def app_environment(
    *, endpoint: str, dynamodb_endpoint: str, port: int, password: str, work: Path
) -> dict[str, str]:
    """The app's environment; the S3 endpoint and credentials come from os.environ (run()).
    ``work`` is the run's own directory: the operator database's working copy lives there and
    goes with it, so no account outlives the run (a copy kept from an earlier run would be
    published into the new, empty bucket at start)."""
    return {
        **os.environ,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "VOJ_ENV": "production",
        "VOJ_STORAGE": "s3",
        "VOJ_DATA_BACKEND": "dynamodb",
        "VOJ_AWS_REGION": REGION,
        "VOJ_AWS_ENDPOINT_URL": endpoint,
        "VOJ_MEDIA_BUCKET": BUCKET,
        "VOJ_BOOKS_TABLE": BOOKS_TABLE,
        "VOJ_CHAPTERS_TABLE": CHAPTERS_TABLE,
        "VOJ_SECURITY_TABLE": SECURITY_TABLE,
        "VOJ_LISTENING_TABLE": LISTENING_TABLE,
        "VOJ_SECRETS": SECRETS_PATH,
        "VOJ_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VOJ_CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port}",
        # Plain HTTP on the loopback: the one production setting this mode changes.
        "VOJ_SSL_REDIRECT": "false",
        "VOJ_DATA_DIR": str(work),
        "VOJ_OPSDB_PATH": str(work / "operator.sqlite3"),
        "VOJ_DEMO_PASSWORD": password,
    }


def operator_database(env: dict[str, str]) -> str:
    """Which operator database this run uses, without the URL's password: DATABASE_URL from
    the caller's environment when set (PostgreSQL, say), else the SQLite file in the bucket."""
    if env.get("DATABASE_URL"):
        url = urlsplit(env["DATABASE_URL"])
        if url.scheme.startswith("sqlite"):
            return f"operator database SQLite file {url.path[1:]} (DATABASE_URL)"
        where = f"{url.hostname or 'local socket'}{f':{url.port}' if url.port else ''}{url.path}"
        return f"operator database {url.scheme} at {where} (DATABASE_URL)"
    return f"operator database SQLite in s3://{BUCKET}/{KEY}"


def distribution(cloudfront: Any) -> str:
    """A CloudFront distribution in moto for the console's invalidations (idempotent). moto's
    CloudFront serves no content: the local edge does."""
    for item in cloudfront.list_distributions()["DistributionList"].get("Items", []):
        if item["Comment"] == "voj-local":
            return item["Id"]
    created = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "voj-local",
            "Comment": "voj-local",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "media",
                        "DomainName": f"{BUCKET}.s3.{REGION}.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "media",
                "ViewerProtocolPolicy": "https-only",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return created["Distribution"]["Id"]


def cdn_key_pair() -> tuple[str, str, str]:
    """A CloudFront key pair made for this run: (key id, private PEM, public PEM)."""
    return "KLOCAL" + secrets.token_hex(4).upper(), *new_key_pair()


def bootstrap(endpoint: str) -> None:
    """Bucket and secrets, created if missing (idempotent). S3 requests go where
    AWS_ENDPOINT_URL_S3 points (SeaweedFS), the rest to ``endpoint``."""
    s3 = build_client("s3", region=REGION, endpoint_url=endpoint)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if BUCKET not in existing:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_encryption(
            Bucket=BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    ssm = build_client("ssm", region=REGION, endpoint_url=endpoint)
    present = {
        p["Name"].removeprefix(SECRETS_PATH)
        for p in ssm.get_parameters_by_path(Path=SECRETS_PATH)["Parameters"]
    }
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"):
        if name not in present:
            ssm.put_parameter(
                Name=SECRETS_PATH + name, Value=secrets.token_urlsafe(50), Type="SecureString"
            )


def demo_password() -> str:
    from_env = os.environ.get("VOJ_DEMO_PASSWORD")
    if from_env:
        return from_env
    path = DATA_DIR / "demo-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
    """Ctrl-C (SIGINT) or SIGTERM: how the mode is ended, so a clean stop and not a failure."""


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


@dataclass
class Servers:
    """What run() has started so far, stopped whatever happened on the way."""

    moto: subprocess.Popen | None = None
    dynamodb: DynamoDBLocal | None = None
    s3: SeaweedFS | None = None
    edge: LocalEdge | None = None
    app: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.app and self.app.poll() is None:
            stop_process(self.app)
        if self.edge:
            self.edge.stop()
        if self.s3:
            self.s3.stop()
        if self.dynamodb:
            self.dynamodb.stop()
        if self.moto:
            stop_process(self.moto)


def store_cdn_key(endpoint: str) -> tuple[str, str]:
    """A key pair made for this run, its private key stored where the app reads it:
    (key id, public PEM)."""
    key_id, private_pem, public_pem = cdn_key_pair()
    build_client("ssm", region=REGION, endpoint_url=endpoint).put_parameter(
        Name=SECRETS_PATH + CLOUDFRONT_PRIVATE_KEY,
        Value=private_pem,
        Type="SecureString",
        Overwrite=True,
    )
    return key_id, public_pem


def start_servers(servers: Servers, port: int, moto_port: int, work: Path) -> dict[str, str]:
    """Every local server up, the bucket, the secrets and the CDN key made: the app's
    environment."""
    (DATA_DIR / "aws").mkdir(parents=True, exist_ok=True)
    servers.moto, endpoint = launch_moto(moto_port, log=DATA_DIR / "aws" / "moto.log")
    servers.dynamodb = DynamoDBLocal()
    servers.dynamodb.launch()  # the JVM starts while the others do
    servers.s3 = s3 = SeaweedFS.start()
    try:
        moto_ready(servers.moto, endpoint)
    except RuntimeError as error:
        raise SystemExit(str(error)) from None
    # SeaweedFS checks signatures against its key; moto accepts any credentials.
    os.environ.update(
        AWS_ACCESS_KEY_ID=s3.access_key,
        AWS_SECRET_ACCESS_KEY=s3.secret_key,
        AWS_ENDPOINT_URL_S3=s3.endpoint,
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    bootstrap(endpoint)
    key_id, public_pem = store_cdn_key(endpoint)
    s3_client = s3.client()
    servers.edge = LocalEdge(
        verifier=SignedUrlVerifier.from_pem({key_id: public_pem}),
        s3_client=lambda: s3_client,
        bucket=BUCKET,
    ).start()
    env = app_environment(
        endpoint=endpoint,
        dynamodb_endpoint=servers.dynamodb.wait_ready(),
        port=port,
        password=demo_password(),
        work=work,
    )
    env["VOJ_CDN_DISTRIBUTION_ID"] = distribution(
        build_client("cloudfront", region=REGION, endpoint_url=endpoint)
    )
    env.update(
        VOJ_CDN_DOMAIN=servers.edge.domain, VOJ_CDN_KEY_ID=key_id, VOJ_CDN_URL_PROTOCOL="http"
    )
    return env


def prepare_app(env: dict[str, str]) -> None:
    """Tables, the operator database's schema, the collected static files, the demo accounts
    and the demo catalogue (uploaded through its grants to SeaweedFS)."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "create_tables"], env=env, check=True)
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    subprocess.run(
        [*manage, "collectstatic", "--noinput", "-v", "0", "--ignore", "rest_framework"],
        env=env,
        check=True,
    )
    subprocess.run([*manage, "ensure_demo_accounts"], env=env, check=True)
    subprocess.run([*manage, "ensure_demo_catalogue"], env=env, check=True)


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    """runserver on the loopback, started after saying where everything is."""
    print(
        f"voj (prod-like: S3 = SeaweedFS at {env['AWS_ENDPOINT_URL_S3']}, DynamoDB Local at "
        f"{env['AWS_ENDPOINT_URL_DYNAMODB']}, SSM/CloudFront = moto at "
        f"{env['VOJ_AWS_ENDPOINT_URL']}, CDN edge at http://{env['VOJ_CDN_DOMAIN']}, "
        f"{operator_database(env)}): "
        f"http://127.0.0.1:{port}/api/v1/  admin http://127.0.0.1:{port}/admin/",
        flush=True,
    )
    # As on Lambda, WhiteNoise serves the collected files (hashed names from the manifest);
    # runserver's own static view would look for unhashed names and answer 404.
    command = [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}"]
    return subprocess.Popen(
        [*command, "--noreload", "--nostatic"],
        env=env,
        preexec_fn=die_with_parent(signal.SIGTERM),
    )


def run(port: int, moto_port: int) -> int:
    """Serve until stopped: 0 after Ctrl-C or SIGTERM (make then reports no error), the app's
    status if it ends by itself. Each run starts empty and leaves nothing behind but
    var/demo-password and moto's log."""
    work = Path(tempfile.mkdtemp(prefix="voj-run-aws-"))
    servers = Servers()
    previous = {signum: signal.signal(signum, _stop) for signum in STOP_SIGNALS}
    try:
        env = start_servers(servers, port, moto_port, work)
        prepare_app(env)
        servers.app = serve(env, port)
        return servers.app.wait()
    except Stopped:
        return 0
    finally:
        # A second Ctrl-C must not cut the servers' shutdown short.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        servers.stop()
        shutil.rmtree(work, ignore_errors=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.aws")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="moto_server + DynamoDB Local + bootstrap + the app")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    run_parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", 5005)))
    args = parser.parse_args()
    sys.exit(run(args.port, args.moto_port))


if __name__ == "__main__":
    main()
