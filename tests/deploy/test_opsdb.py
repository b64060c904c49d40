"""Restoring a stored version of the operator database, on moto's versioned bucket."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from deploy import cli, opsdb, shared, stacks
from voj.aws import aws_client

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "voj-audiobooks-prod"


class CfnLoader(yaml.SafeLoader):
    pass


CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse")


def database(tmp_path: Path, marker: str) -> bytes:
    path = tmp_path / f"{marker}.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("create table auth_user (username text)")
        connection.execute("insert into auth_user values (?)", (marker,))
    return path.read_bytes()


def users(body: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "read.sqlite3"
    path.write_bytes(body)
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("select username from auth_user")]


def current() -> bytes:
    return aws_client("s3").get_object(Bucket=BUCKET, Key=opsdb.KEY)["Body"].read()


@pytest.fixture
def stored(aws, tmp_path) -> list[str]:
    """The core stack (a versioned bucket) and three published versions, oldest first."""
    aws_client("cloudformation").create_stack(
        StackName="voj-prod-core",
        TemplateBody=(ROOT / "deploy" / "stack.yaml").read_text(),
        Parameters=stacks.creation_parameters(
            "prod",
            "core",
            {
                "ApiOrigin": "https://api.voj.test",
                "FrontendOrigin": "https://app.voj.test",
                "AlarmEmail": "ops@voj.test",
            },
        ),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    s3 = aws_client("s3")
    # moto's CloudFormation leaves out the bucket's VersioningConfiguration: apply the template's.
    template = yaml.load((ROOT / "deploy" / "stack.yaml").read_text(), Loader=CfnLoader)
    versioning = template["Resources"]["MediaBucket"]["Properties"]["VersioningConfiguration"]
    assert versioning == {"Status": "Enabled"}
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration=versioning)
    return [
        s3.put_object(Bucket=BUCKET, Key=opsdb.KEY, Body=database(tmp_path, m))["VersionId"]
        for m in ("first", "second", "broken")
    ]


def test_versions_lists_newest_first(stored, capsys):
    listed = opsdb.versions("prod")
    assert [v["VersionId"] for v in listed] == stored[::-1]
    assert [v["IsLatest"] for v in listed] == [True, False, False]
    out = capsys.readouterr().out
    assert stored[0] in out and "(current)" in out


def test_restore_backs_up_the_current_file_then_writes_the_version(stored, tmp_path, capsys):
    backup = opsdb.restore("prod", stored[0], yes=True)
    assert users(current(), tmp_path) == ["first"]
    s3 = aws_client("s3")
    assert users(s3.get_object(Bucket=BUCKET, Key=backup)["Body"].read(), tmp_path) == ["broken"]
    assert backup.startswith(opsdb.BACKUPS) and stored[2] in backup
    # The restore is itself a new version: every earlier one is still there.
    assert len(opsdb.versions("prod")) == 4
    assert opsdb.restore("prod", opsdb.versions("prod")[0]["VersionId"], yes=True) == ""


def test_restore_never_overwrites_a_concurrent_write(stored, tmp_path, monkeypatch):
    """A console write lands between the restore's read and its write: the restore stops."""
    build = shared.client

    def client(service, region=shared.REGION):
        built = build(service, region)

        def console_writes_first(params, **kwargs):
            if params.get("IfMatch"):
                aws_client("s3").put_object(
                    Bucket=BUCKET, Key=opsdb.KEY, Body=database(tmp_path, "console")
                )

        built.meta.events.register("provide-client-params.s3.PutObject", console_writes_first)
        return built

    monkeypatch.setattr(shared, "client", client)
    with pytest.raises(SystemExit, match="changed while restoring"):
        opsdb.restore("prod", stored[0], yes=True)
    assert users(current(), tmp_path) == ["console"]


def test_restore_refuses_bad_versions(stored, tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match="not found"):
        opsdb.restore("prod", "no-such-version", yes=True)
    s3 = aws_client("s3")
    junk = s3.put_object(Bucket=BUCKET, Key=opsdb.KEY, Body=b"<html>oops</html>")["VersionId"]
    with pytest.raises(SystemExit, match="not an SQLite database"):
        opsdb.restore("prod", junk, yes=True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    with pytest.raises(SystemExit, match="not restored"):
        opsdb.restore("prod", stored[0], yes=False)
    assert current() == b"<html>oops</html>"


def test_cli(stored, tmp_path):
    cli.main(["opsdb", "versions", "prod"])
    cli.main(["opsdb", "restore", "prod", "--version-id", stored[1], "--yes"])
    assert users(current(), tmp_path) == ["second"]
