"""Which version a rollback must reach, from the versions list alone: after one failed update,
after the release was run again, after a rollback (the cases where `-n 1` is wrong)."""

from __future__ import annotations

import pytest

from deploy import live
from deploy.live import LATEST, Live, Version


def listing(*codes: str) -> list[Version]:
    """Versions 1..N holding ``codes`` in order; $LATEST holds the last."""
    published = [Version(str(i), code, f"t{i}") for i, code in enumerate(codes, 1)]
    return [Version(LATEST, codes[-1], "t"), *reversed(published)]


def test_snapstart_update_publishes_twice_so_the_previous_release_is_two_below():
    # deploy A (1), update B: code-only version 2 and SnapStart's configuration version 3.
    listed = listing("A", "B", "B")
    now = Live("snapstart", "3", "B")
    target = live.previous_release(listed, now)
    assert target.number == "1" and live.zappa_rollback_n(listed, "1") == 2


def test_a_release_run_again_after_a_failed_update_adds_versions_of_the_same_code():
    # A (1); B failed after going live (2, 3); B run again (4, 5): -n 1 is B, A is 4 below.
    listed = listing("A", "B", "B", "B", "B")
    now = Live("snapstart", "5", "B")
    assert live.previous_release(listed, now).number == "1"
    assert live.previous_release(listed, now, code="A").number == "1"
    assert live.zappa_rollback_n(listed, "1") == 4


def test_after_a_rollback_by_alias_the_release_before_is_below_the_alias():
    # A (1), B (2, 3), C (4, 5); the alias was moved back to 3 (B): the one before is A.
    listed = listing("A", "B", "B", "C", "C")
    assert live.previous_release(listed, Live("snapstart", "3", "B")).number == "1"


def test_on_latest_the_rollback_counts_zappa_rollbacks_as_versions():
    # $LATEST: A (1), B (2), `zappa rollback -n 1` -> A again (3): the release before is B's 2.
    listed = listing("A", "B", "A")
    assert live.previous_release(listed, Live(LATEST, LATEST, "A")).number == "2"
    assert live.zappa_rollback_n(listed, "2") == 1


def test_nothing_retained_to_go_back_to():
    with pytest.raises(SystemExit, match="no retained version"):
        live.previous_release(listing("A", "A"), Live("snapstart", "2", "A"))


def test_a_failure_before_the_alias_moved_says_the_previous_release_serves(monkeypatch):
    listed = listing("A", "B")  # B uploaded and published, the alias still on 1
    monkeypatch.setattr(live, "versions", lambda stage: listed)
    monkeypatch.setattr(live, "live", lambda stage: Live("snapstart", "1", "A"))
    report = live.after_failed_update("prod", Live("snapstart", "1", "A"), "B")
    assert "the previous release still serves: version 1 via snapstart" in report
    assert "uploaded as $LATEST, not invoked" in report and "run the release again" in report
    monkeypatch.setattr(live, "live", lambda stage: Live("snapstart", "1", "X"))
    assert "neither this package's nor" in live.after_failed_update(
        "prod", Live("snapstart", "1", "A"), "B"
    )


def _function(tmp_path, monkeypatch, shape: dict) -> tuple[object, str]:
    """voj-prod in moto (in-process), deployed as Zappa leaves it, with ``shape`` in this test's
    own copy of zappa_settings.json."""
    import io
    import json
    import zipfile

    from voj.aws import aws_client

    document = json.loads((live.ROOT / "zappa_settings.json").read_text())
    document["prod"].update(shape)
    (tmp_path / "zappa_settings.json").write_text(json.dumps(document))
    monkeypatch.setenv("VOJ_ZAPPA_SETTINGS", str(tmp_path / "zappa_settings.json"))
    role = aws_client("iam").create_role(RoleName="voj-prod-lambda", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return {}\n")
    lambda_client = aws_client("lambda")
    lambda_client.create_function(
        FunctionName="voj-prod",
        Runtime="python3.12",
        Role=role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": code.getvalue()},
        Publish=True,
    )
    if shape["snap_start"] != "None":
        lambda_client.create_alias(FunctionName="voj-prod", Name="snapstart", FunctionVersion="1")
    return lambda_client, live.live("prod").code_sha256


@pytest.mark.parametrize(
    "shape", [{"snap_start": "PublishedVersions"}, {"snap_start": "None"}], ids=["alias", "latest"]
)
def test_recycle_starts_new_containers_of_the_same_code(aws, tmp_path, monkeypatch, shape):
    from tests.deploy.iam import record_operations, uncovered

    lambda_client, code = _function(tmp_path, monkeypatch, shape)
    recorded = record_operations(monkeypatch)
    after = live.recycle("prod", "JWT_SIGNING_KEY rotated")
    assert after.code_sha256 == code
    latest = lambda_client.get_function_configuration(FunctionName="voj-prod")
    # A configuration change: Lambda starts new containers; the description says why.
    assert latest["Description"].startswith("voj recycled ")
    assert latest["Description"].endswith(": JWT_SIGNING_KEY rotated")
    if (
        shape["snap_start"] != "None"
    ):  # a new version (a new snapshot), and the alias API Gateway invokes on it
        assert after.version == "2" and after.qualifier == "snapstart"
    else:
        assert after.version == LATEST
    assert uncovered(recorded) == []


def test_recycle_refuses_to_switch_code(aws, tmp_path, monkeypatch):
    """After a rollback by alias $LATEST holds the bad release: publishing it would undo that."""
    lambda_client, _ = _function(tmp_path, monkeypatch, {"snap_start": "PublishedVersions"})
    lambda_client.update_function_code(FunctionName="voj-prod", ZipFile=b"PK\x05\x06" + bytes(18))
    with pytest.raises(SystemExit, match="other code"):
        live.recycle("prod", "key rotated")
    alias = lambda_client.get_alias(FunctionName="voj-prod", Name="snapstart")
    assert alias["FunctionVersion"] == "1"


def test_a_release_run_again_while_its_code_serves_offers_the_release_before(monkeypatch):
    listed = listing("A", "B", "B", "B", "B")  # B went live failing, then failed again
    monkeypatch.setattr(live, "versions", lambda stage: listed)
    monkeypatch.setattr(live, "live", lambda stage: Live("snapstart", "5", "B"))
    report = live.after_failed_update("prod", Live("snapstart", "3", "B"), "B")
    assert "--to-version 1`" in report and "zappa rollback prod -n 4" in report
    assert "previous release (code A)" in report
