"""`stack apply` → `configure` as an operator runs them: through the command line, against a moto
server, with moto's CloudFormation gaps shimmed (tests/deploy/cloudformation_gaps.py)."""

from __future__ import annotations

import pytest

from deploy import cli
from deploy.local.lambda_harness import CORE_TEST_PARAMETERS, moto_client
from tests.deploy.iam import uncovered
from tests.deploy.operator_shell import environment

CORE_ARGS = [arg for k, v in CORE_TEST_PARAMETERS.items() for arg in ("--param", f"{k}={v}")]

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse")


def test_stack_apply_then_configure_as_an_operator_runs_them(operator_shell, capsys):
    cli.main(["keys", "create", "prod"])
    cli.main(["stack", "apply", "prod", "--template", "core", *CORE_ARGS, "--yes"])
    with pytest.raises(SystemExit) as stopped:  # before the edge stack: names, then a warning
        cli.main(["configure", "prod"])
    assert stopped.value.code == 1
    out = capsys.readouterr().out
    assert "warning: stack voj-prod-edge does not exist" in out
    assert "--template edge" in out and "--without-edge" in out
    env = environment(operator_shell["settings"])
    assert env["VOJ_BOOKS_TABLE"] == "voj-books-prod"
    assert env["VOJ_CHAPTERS_TABLE"] == "voj-audio-chapters-prod"
    assert env["VOJ_SECURITY_TABLE"] == "voj-security-prod"
    assert env["VOJ_LISTENING_TABLE"] == "voj-listening-prod"

    # On moto the edge stack completes without outputs (cloudformation_gaps.py): configure
    # says so instead of passing over it.
    cli.main(["stack", "apply", "prod", "--template", "edge", "--yes"])
    with pytest.raises(SystemExit) as stopped:
        cli.main(["configure", "prod"])
    assert stopped.value.code == 1
    assert (
        "warning: stack voj-prod-edge (CREATE_COMPLETE) has no outputs" in capsys.readouterr().out
    )
    cli.main(["configure", "prod", "--without-edge"])  # said on purpose: exits 0
    assert "without the edge stack" in capsys.readouterr().out
    assert not {"VOJ_CDN_DOMAIN", "VOJ_CDN_KEY_ID"} & set(environment(operator_shell["settings"]))

    # An update through the command line reaches the outputs configure reads.
    cli.main(["stack", "apply", "prod", "--template", "core", "--yes"])
    assert uncovered(operator_shell["records"]) == []


def test_configure_without_a_core_stack_writes_nothing(operator_shell, capsys):
    before = operator_shell["settings"].read_text()
    with pytest.raises(SystemExit, match=r"stack voj-prod-core does not exist.*nothing written"):
        cli.main(["configure", "prod"])
    assert operator_shell["settings"].read_text() == before


def test_a_failed_first_create_prints_why_and_is_applied_again(operator_shell, capsys):
    reason = (
        'Resource handler returned message: "voj-audiobooks-prod already exists" '
        "(HandlerErrorCode: AlreadyExists)"
    )
    kept = ("BooksTable", "AWS::DynamoDB::Table", "voj-books-prod")
    operator_shell["gaps"].fail_create(
        "voj-prod-core", "MediaBucket", "AWS::S3::Bucket", reason, kept=kept
    )
    with pytest.raises(SystemExit) as stopped:
        cli.main(["stack", "apply", "prod", "--template", "core", *CORE_ARGS, "--yes"])
    assert stopped.value.code == 1
    out = capsys.readouterr().out
    assert "stack voj-prod-core: ROLLBACK_COMPLETE" in out
    assert f"CREATE_FAILED  MediaBucket (AWS::S3::Bucket): {reason}" in out
    assert "kept by the rollback (DeletionPolicy Retain): BooksTable voj-books-prod" in out

    with pytest.raises(SystemExit, match=r"ROLLBACK_COMPLETE.*stack apply"):
        cli.main(["stack", "plan", "prod", "--template", "core"])  # a plan changes nothing

    # Fixed (say, the bucket's name): the same command again deletes the dead stack and creates.
    cli.main(["stack", "apply", "prod", "--template", "core", *CORE_ARGS, "--yes"])
    out = capsys.readouterr().out
    assert "its first create failed" in out and "MediaBucket" in out
    assert "deleted (it never completed, so it held nothing); creating it anew" in out
    assert "stack voj-prod-core: CREATE_COMPLETE" in out
    cli.main(["configure", "prod", "--without-edge"])
    assert environment(operator_shell["settings"])["VOJ_MEDIA_BUCKET"] == "voj-audiobooks-prod"
    assert uncovered(operator_shell["records"]) == []


def test_a_stack_that_once_completed_is_never_deleted(operator_shell, capsys):
    cli.main(["stack", "apply", "prod", "--template", "core", *CORE_ARGS, "--yes"])
    events = moto_client(operator_shell["moto"], "cloudformation").describe_stack_events(
        StackName="voj-prod-core"
    )["StackEvents"]
    assert any(e["ResourceStatus"] == "CREATE_COMPLETE" for e in events)
    operator_shell["gaps"].dead["voj-prod-core"] = events  # reads ROLLBACK_COMPLETE from now on
    with pytest.raises(SystemExit, match="once completed; it is not deleted"):
        cli.main(["stack", "apply", "prod", "--template", "core", "--yes"])
    operator_shell["gaps"].dead.clear()
    cli.main(["configure", "prod", "--without-edge"])  # the stack and its outputs are still there
