"""Moving the operator accounts from the S3 SQLite file to PostgreSQL and back
(`python -m deploy opsdb export|import`), with every password still working after the move."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from deploy.cli import main
from deploy.opsdb import KEY as OPSDB_KEY
from tests.helpers import manage
from voj.aws import aws_client

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "voj-audiobooks-prod"
PASSWORDS = {"ops": "ops-pass-phrase-1", "editor1": "editor-pass-ÄÖ-2", "listener1": "lstn-3"}

SEED = """
from django.contrib.auth.models import Group, Permission, User
editors = Group.objects.create(name="editors")
editors.permissions.add(Permission.objects.get(codename="view_user"))
User.objects.create_superuser("ops", password="ops-pass-phrase-1")
User.objects.create_user("editor1", password="editor-pass-ÄÖ-2").groups.add(editors)
u = User.objects.create_user("listener1", password="lstn-3", is_active=False)
u.user_permissions.add(Permission.objects.get(codename="change_group"))
"""

CHECK = """
import json
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.db import connection
passwords = json.loads(%r)
users = User.objects
def names(query):
    return sorted(query.values_list("username", flat=True))
print("CHECK" + json.dumps({
    "vendor": connection.vendor,
    "signed_in": sorted(n for n, p in passwords.items() if authenticate(username=n, password=p)),
    "hashes_ok": all(users.get(username=n).check_password(p) for n, p in passwords.items()),
    "superusers": names(users.filter(is_superuser=True)),
    "inactive": names(users.filter(is_active=False)),
    "editors": names(users.filter(groups__name="editors")),
    "group_perms": sorted(
        p.codename for p in Group.objects.get(name="editors").permissions.all()
    ),
    "user_perms": sorted(
        p.codename for p in users.get(username="listener1").user_permissions.all()
    ),
}))
"""


def shell(database_url: str, tmp_path: Path, script: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VOJ_", "DJANGO_"))},
        "VOJ_ENV": "local",
        "VOJ_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
    }
    return manage(env, "shell", "-c", script).stdout


def check(database_url: str, tmp_path: Path) -> dict:
    out = shell(database_url, tmp_path, CHECK % json.dumps(PASSWORDS))
    return json.loads(next(line for line in out.splitlines() if line.startswith("CHECK"))[5:])


EXPECTED = {
    "signed_in": ["editor1", "ops"],  # listener1 is inactive: its hash is checked below
    "hashes_ok": True,
    "superusers": ["ops"],
    "inactive": ["listener1"],
    "editors": ["editor1"],
    "group_perms": ["view_user"],
    "user_perms": ["change_group"],
}


@pytest.fixture
def s3(aws):
    client = aws_client("s3")
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    return client


def download(s3, target: Path) -> Path:
    target.write_bytes(s3.get_object(Bucket=BUCKET, Key=OPSDB_KEY)["Body"].read())
    return target


@pytest.mark.postgres
def test_accounts_move_to_postgresql_and_back(s3, postgres_url, tmp_path):
    # The stage's operator database as production keeps it: a SQLite file in the bucket.
    source = tmp_path / "source.sqlite3"
    from deploy.opsdb_transfer import manage

    manage(f"sqlite:///{source}", "migrate", "--noinput", "-v", "0", work=tmp_path)
    shell(f"sqlite:///{source}", tmp_path, SEED)
    s3.put_object(Bucket=BUCKET, Key=OPSDB_KEY, Body=source.read_bytes())

    exported = tmp_path / "accounts.json"
    main(["opsdb", "export", "prod", "--bucket", BUCKET, "--output", str(exported)])
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600  # it holds password hashes
    records = json.loads(exported.read_text())
    assert {r["model"] for r in records} == {"auth.group", "auth.user"}
    assert all("pk" not in r for r in records)  # natural keys: ids may differ on the target

    main(["opsdb", "import", "prod", "--database-url", postgres_url, "--input", str(exported)])
    assert check(postgres_url, tmp_path) == {"vendor": "postgresql", **EXPECTED}
    # Again: existing accounts are updated in place, nothing doubled.
    main(["opsdb", "import", "prod", "--database-url", postgres_url, "--input", str(exported)])
    assert check(postgres_url, tmp_path) == {"vendor": "postgresql", **EXPECTED}

    # And back: from PostgreSQL into a bucket that has no operator database yet.
    s3.delete_object(Bucket=BUCKET, Key=OPSDB_KEY)
    back = tmp_path / "back.json"
    main(["opsdb", "export", "prod", "--database-url", postgres_url, "--output", str(back)])
    main(["opsdb", "import", "prod", "--bucket", BUCKET, "--input", str(back)])
    returned = download(s3, tmp_path / "returned.sqlite3")
    assert check(f"sqlite:///{returned}", tmp_path) == {"vendor": "sqlite", **EXPECTED}


def test_export_without_an_operator_database(s3, tmp_path):
    with pytest.raises(SystemExit, match="no operator database"):
        main(["opsdb", "export", "prod", "--bucket", BUCKET, "--output", str(tmp_path / "x")])


def test_import_refuses_other_data(s3, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"model": "admin.logentry", "fields": {}}]))
    with pytest.raises(SystemExit, match="not an export"):
        main(["opsdb", "import", "prod", "--bucket", BUCKET, "--input", str(other)])
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
