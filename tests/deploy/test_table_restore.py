"""The table restore drill: each table (books and chapters, security, listening) restored to a
point in time and put back into service with the documented commands, through `python -m
deploy` against a moto server, and the app then serving from the restored tables
(docs/runbook.md, "Restoring a table to a point in time")."""

from __future__ import annotations

import datetime
import shlex
from pathlib import Path

import pytest

from deploy import cli, tables
from deploy.local.lambda_harness import CORE_TEST_PARAMETERS, moto_client
from listening.domain import Bookmark
from tests.conftest import Api, _reset_singletons
from tests.deploy.iam import uncovered
from tests.deploy.operator_shell import environment
from tests.helpers import book_create, chapter_create

CORE_ARGS = [arg for k, v in CORE_TEST_PARAMETERS.items() for arg in ("--param", f"{k}={v}")]
TABLE_SETTINGS = (
    "VOJ_BOOKS_TABLE",
    "VOJ_CHAPTERS_TABLE",
    "VOJ_SECURITY_TABLE",
    "VOJ_LISTENING_TABLE",
)

pytestmark = [pytest.mark.filterwarnings("ignore:Tried to parse"), pytest.mark.django_db]


def serve(settings, settings_file: Path, moto: str) -> dict[str, str]:
    """The app as the function runs it after `configure` and a release: the stage's table names
    from zappa_settings.json, DynamoDB on the moto server."""
    env = environment(settings_file)
    settings.VOJ_DATA_BACKEND = "dynamodb"
    settings.VOJ_AWS_ENDPOINT_URL = moto
    settings.VOJ_AWS_REGION = "ap-northeast-2"
    for name in TABLE_SETTINGS:
        setattr(settings, name, env[name])
    _reset_singletons()
    return env


def pitr_as_cloudformation_sets_it(moto: str, names: list[str]) -> None:
    """moto's CloudFormation ignores PointInTimeRecoverySpecification; the stack turns it on."""
    dynamodb = moto_client(moto, "dynamodb")
    for name in names:
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def run_printed(out: str, command: str, monkeypatch) -> None:
    """Run the `python -m deploy ...` line the tool printed, as the operator would paste it,
    answering y to the change set."""
    line = next(x.strip() for x in out.splitlines() if x.strip().startswith(command))
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    cli.main(shlex.split(line.removeprefix("python -m deploy ")))


def test_every_table_restored_to_a_point_in_time_and_served(
    operator_shell, settings, editor, listener, capsys, monkeypatch
):
    moto, settings_file = operator_shell["moto"], operator_shell["settings"]
    cli.main(["stack", "apply", "prod", "--template", "core", *CORE_ARGS, "--yes"])
    cli.main(["configure", "prod", "--without-edge"])
    stack_tables = [environment(settings_file)[n] for n in TABLE_SETTINGS]
    pitr_as_cloudformation_sets_it(moto, stack_tables)
    serve(settings, settings_file, moto)
    from listening.repository import get_listening_repository
    from voj.security import get_security_state

    # What the stage holds at the point to restore to.
    editing = Api(editor)
    book = book_create(editing, "Kept")
    chapter = chapter_create(editing, book, size=1000)["chapter"]
    mark = Bookmark(
        user_id=listener.id,
        book_id=book["id"],
        chapter_id=chapter["id"],
        chapter_number=1,
        position_seconds=12.5,
    )
    get_listening_repository().bookmark_create(mark, per_book_limit=10)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    get_security_state().put("drill#kept", value="before", expires_at=expires)
    for name in stack_tables:
        point = operator_shell["dynamodb_gaps"].mark(name)

    # The accident: the book deleted (its chapters and the listeners' bookmarks with it), the
    # security record changed.
    assert editing.delete(f"/api/v1/books/{book['id']}").status_code == 204
    get_listening_repository().book_forget(book_id=book["id"])
    get_security_state().put("drill#kept", value="after", expires_at=expires)
    assert editing.get(f"/api/v1/books/{book['id']}").status_code == 404
    capsys.readouterr()

    # The procedure, as docs/runbook.md gives it.
    kinds = ["books", "chapters", "security", "listening"]
    cli.main(["table-restore", "prod", *kinds, "--to", point.isoformat(), "--yes"])
    out = capsys.readouterr().out
    restored = [tables.target_name("prod", kind, point) for kind in kinds]
    run_printed(out, "python -m deploy stack apply prod --template core", monkeypatch)
    changes = capsys.readouterr().out
    assert "BooksTableInService" in changes and "stack voj-prod-core: UPDATE_COMPLETE" in changes
    assert "  python -m deploy configure prod\n" in out
    cli.main(["configure", "prod", "--without-edge"])  # this stage on moto has no edge stack
    assert "make package STAGE=prod" in out and "python -m deploy release prod" in out

    env = serve(settings, settings_file, moto)
    assert [env[n] for n in TABLE_SETTINGS] == restored
    assert editing.get(f"/api/v1/books/{book['id']}").json()["title"] == "Kept"
    listed = editing.get(f"/api/v1/books/{book['id']}/chapters").json()["results"]
    assert [c["id"] for c in listed] == [chapter["id"]]
    bookmarks = get_listening_repository().bookmark_list(
        user_id=listener.id, book_id=book["id"], limit=5
    )
    assert bookmarks.items == [mark]
    assert get_security_state().get("drill#kept") == "before"
    # And it keeps serving: a write lands in the restored table.
    book_create(editing, "Written after the restore")

    _restored_tables_are_like_the_stacks(moto, stack_tables, restored)
    # The role's grants follow the parameters too; moto's stack update leaves a role's inline
    # policies as they were, so test_templates.py checks them on a stack created with them.
    assert uncovered(operator_shell["records"]) == []


def _restored_tables_are_like_the_stacks(moto: str, stack_tables: list[str], restored: list[str]):
    dynamodb = moto_client(moto, "dynamodb")
    names = set(dynamodb.list_tables()["TableNames"])
    assert set(stack_tables) <= names, "the stack's tables are kept, for forensics"
    for old, new in zip(stack_tables, restored, strict=True):
        source, table = (dynamodb.describe_table(TableName=n)["Table"] for n in (old, new))
        assert table["DeletionProtectionEnabled"] is True
        backups = dynamodb.describe_continuous_backups(TableName=new)
        pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
        assert [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])] == [
            i["IndexName"] for i in source.get("GlobalSecondaryIndexes", [])
        ]
        tags = dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
        assert {"Key": "voj:restored-from", "Value": old} in tags
    ttl = dynamodb.describe_time_to_live(TableName=restored[2])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_a_restore_time_needs_its_zone_and_the_past(operator_shell):
    with pytest.raises(SystemExit, match="time zone"):
        cli.main(["table-restore", "prod", "books", "--to", "2026-12-02T21:30:00", "--yes"])
    with pytest.raises(SystemExit, match="future"):
        cli.main(["table-restore", "prod", "books", "--to", "2999-01-01T00:00:00Z", "--yes"])


def test_a_restore_is_asked_for_and_needs_recovery_on(operator_shell, monkeypatch, capsys):
    cli.main(["stack", "apply", "prod", "--template", "core", *CORE_ARGS, "--yes"])
    now = datetime.datetime.now(datetime.UTC).isoformat()
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    cli.main(["table-restore", "prod", "books", "--to", now])
    out = capsys.readouterr().out
    assert "books and chapters refer to each other" in out and "nothing restored" in out
    # On moto the stack's tables have recovery off (moto ignores the template's setting).
    with pytest.raises(SystemExit, match="point-in-time recovery is off"):
        cli.main(["table-restore", "prod", "books", "chapters", "--to", now, "--yes"])
