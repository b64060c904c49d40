"""The prod-like local mode: production settings and code paths against local servers.

    python -m deploy.local.aws run [--port 8000] [--moto-port 5005]

starts, all on 127.0.0.1: SeaweedFS (deploy/local/seaweedfs.py), a real S3 server that checks
signatures, POST policies and expiry, for the media bucket; AWS's DynamoDB Local for the
catalogue and the security state (deploy/local/dynamodb.py: in a private network namespace,
relayed to a random port on 127.0.0.1); moto_server for SSM and CloudFront; and a local
CloudFront edge (deploy/local/edge.py) that serves stream URLs only with a valid CloudFront
signature, from a key pair made at start. It creates the bucket, the secrets, the tables
(`manage.py create_tables`, from the stack's definition) and the demo accounts, and serves the app
with VOJ_ENV=production, VOJ_STORAGE=s3, VOJ_DATA_BACKEND=dynamodb, AWS_ENDPOINT_URL_S3 at
SeaweedFS, AWS_ENDPOINT_URL_DYNAMODB at DynamoDB Local, VOJ_AWS_ENDPOINT_URL at moto and
VOJ_CDN_DOMAIN at the edge. Everything is kept in memory or a temporary directory: stopping
forgets the data.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deploy.cdn_keys import new_key_pair
from deploy.local.dynamodb import DynamoDBLocal
from deploy.local.edge import LocalEdge, SignedUrlVerifier
from deploy.local.processes import launch_moto, moto_ready
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
SECRETS_PATH = "/voj/local/"
# VOJ_DATA_DIR moves the mode's files (a test runs it beside a developer's own run).
DATA_DIR = Path(os.environ.get("VOJ_DATA_DIR") or ROOT / "var")


def app_environment(
    *, endpoint: str, dynamodb_endpoint: str, port: int, password: str
) -> dict[str, str]:
    """The app's environment; the S3 endpoint and credentials come from os.environ (run())."""
    data_dir = DATA_DIR / "aws"
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
        "VOJ_SECRETS": SECRETS_PATH,
        "VOJ_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VOJ_CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port}",
        # Plain HTTP on the loopback: the one production setting this mode changes.
        "VOJ_SSL_REDIRECT": "false",
        "VOJ_DATA_DIR": str(data_dir),
        "VOJ_OPSDB_PATH": str(data_dir / "operator.sqlite3"),
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


def run(port: int, moto_port: int) -> int:
    (DATA_DIR / "aws").mkdir(parents=True, exist_ok=True)
    moto, endpoint = launch_moto(moto_port, log=DATA_DIR / "aws" / "moto.log")
    dynamodb = DynamoDBLocal()
    app = None
    s3 = edge = None
    try:
        dynamodb.launch()  # the JVM starts while the others do
        s3 = SeaweedFS.start()
        try:
            moto_ready(moto, endpoint)
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
        key_id, private_pem, public_pem = cdn_key_pair()
        build_client("ssm", region=REGION, endpoint_url=endpoint).put_parameter(
            Name=SECRETS_PATH + CLOUDFRONT_PRIVATE_KEY,
            Value=private_pem,
            Type="SecureString",
            Overwrite=True,
        )
        s3_client = s3.client()
        edge = LocalEdge(
            verifier=SignedUrlVerifier.from_pem({key_id: public_pem}),
            s3_client=lambda: s3_client,
            bucket=BUCKET,
        ).start()
        env = app_environment(
            endpoint=endpoint,
            dynamodb_endpoint=dynamodb.wait_ready(),
            port=port,
            password=demo_password(),
        )
        env["VOJ_CDN_DISTRIBUTION_ID"] = distribution(
            build_client("cloudfront", region=REGION, endpoint_url=endpoint)
        )
        env.update(VOJ_CDN_DOMAIN=edge.domain, VOJ_CDN_KEY_ID=key_id, VOJ_CDN_URL_PROTOCOL="http")
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "create_tables"], env=env, check=True)
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        subprocess.run(
            [*manage, "collectstatic", "--noinput", "-v", "0", "--ignore", "rest_framework"],
            env=env,
            check=True,
        )
        subprocess.run([*manage, "ensure_demo_accounts"], env=env, check=True)
        print(
            f"voj (prod-like: S3 = SeaweedFS at {s3.endpoint}, DynamoDB Local at "
            f"{env['AWS_ENDPOINT_URL_DYNAMODB']}, SSM/CloudFront = moto at {endpoint}, "
            f"CDN edge at http://{edge.domain}, {operator_database(env)}): "
            f"http://127.0.0.1:{port}/api/v1/  admin http://127.0.0.1:{port}/admin/",
            flush=True,
        )
        # As on Lambda, WhiteNoise serves the collected files (hashed names from the manifest);
        # runserver's own static view would look for unhashed names and answer 404.
        app = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--nostatic"], env=env
        )
        signal.signal(signal.SIGTERM, lambda *_: app.terminate())
        return app.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if app and app.poll() is None:
            app.terminate()
            app.wait(timeout=10)
        if edge:
            edge.stop()
        if s3:
            s3.stop()
        dynamodb.stop()
        moto.terminate()
        moto.wait(timeout=10)


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
