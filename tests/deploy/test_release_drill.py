"""The release drill on moto_server, with the stage's final shape (HTTP API; SnapStart, where API
Gateway invokes Zappa's `snapstart` alias, or $LATEST without it): `zappa update` fails after the
code went up (moto's missing ListFunctionUrlConfigs, its shim left off), the release says which
code serves and offers the rollback, `python -m deploy status` marks what API Gateway invokes,
and the offered rollback really brings the previous release's code back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import cli, live, release
from deploy.local.lambda_harness import prod_on_moto
from deploy.local.processes import start_moto, stop
from tests.deploy.iam import record_operations, uncovered
from tests.deploy.test_zappa_deploy import HOOKS, PACKAGE, Zappa, code_sha256, next_release

ROOT = Path(__file__).resolve().parents[2]
# The settings the stages ship with once on the HTTP API (issue 22): written into this drill's
# own copy of zappa_settings.json, never the repository's.
FINAL_SHAPE = {"apigateway_version": "v2", "keep_warm": False, "num_retained_versions": 20}
SNAPSTART = {"snap_start": "PublishedVersions"}
NO_SNAPSTART = {"snap_start": "None"}  # Zappa's own spelling of off


@pytest.fixture
def own_moto() -> Iterator[str]:
    """A moto server of this test's own: the function is deployed from nothing."""
    server, url = start_moto()
    try:
        yield url
    finally:
        stop(server)


def stage_on(moto: str, work: Path, monkeypatch, shape: dict) -> Zappa:
    """prod on ``moto`` with ``shape`` over zappa_settings.json, and the deploy tools and the
    Zappa they start pointed at it (the shims of moto's gaps loaded into Zappa)."""
    if not PACKAGE.exists():
        pytest.skip("run `make package` first")
    prod_on_moto(moto, ROOT / "deploy" / "stack.yaml")
    zappa = Zappa(moto, work)
    document = json.loads((work / "zappa_settings.json").read_text())
    document["prod"].update(shape)
    (work / "zappa_settings.json").write_text(json.dumps(document))
    for name, value in {
        "VOJ_ZAPPA_SETTINGS": str(work / "zappa_settings.json"),
        "VOJ_AWS_ENDPOINT_URL": moto,
        "AWS_ACCESS_KEY_ID": "moto",
        "AWS_SECRET_ACCESS_KEY": "moto",
        "HOME": str(work),
        "PYTHONPATH": str(HOOKS),
        "VOJ_SHIM_CODE_STORE": str(work / "code"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VOJ_RECORD_OPERATIONS", str(zappa.operations))  # the release's Zappa too
    return zappa


@pytest.mark.parametrize("shape", [SNAPSTART, NO_SNAPSTART], ids=["snapstart-alias", "latest"])
def test_failed_update_is_reported_as_it_is_and_the_rollback_restores(
    own_moto, tmp_path, monkeypatch, capsys, shape
):
    zappa = stage_on(own_moto, tmp_path, monkeypatch, {**FINAL_SHAPE, **shape})
    tools = record_operations(monkeypatch)
    v1, v2 = PACKAGE, next_release(PACKAGE, tmp_path / "voj-prod-2.zip", 2)
    live.record_release("prod", v1, revision="first")
    zappa("deploy", "prod", "--zip", str(v1))
    qualifier = live.invoked_qualifier("prod")
    assert qualifier == ("snapstart" if shape is SNAPSTART else "$LATEST")
    assert live.live("prod").code_sha256 == code_sha256(v1)

    # The update fails after uploading and publishing the code (moto's ListFunctionUrlConfigs).
    monkeypatch.setenv("VOJ_SHIM_WITHOUT", "list-function-url-configs")
    monkeypatch.setattr(release, "package_path", lambda stage: v2)
    monkeypatch.setattr(live, "git_revision", lambda: "second")
    with pytest.raises(SystemExit) as failed:
        release.update("prod")
    report = str(failed.value)
    assert live.live("prod").code_sha256 == code_sha256(v2)  # what really serves
    assert "AFTER the new code went live" in report and code_sha256(v2) in report
    assert "old code still serves" not in report
    # Run again, it fails again, publishing more versions of the same code: what it offers
    # still returns to the first release, and the -n that does it grows.
    first_n = int(re.search(r"zappa rollback prod -n (\d+)", report).group(1))
    with pytest.raises(SystemExit) as failed:
        release.update("prod")
    report = str(failed.value)
    assert "AFTER the new code went live" in report
    offered = re.search(r"python -m deploy rollback prod --to-version (\d+)", report)
    n = int(re.search(r"zappa rollback prod -n (\d+)", report).group(1))
    assert n >= first_n  # Lambda publishes again only if code or configuration changed
    listed = live.versions("prod")
    published = [v for v in listed if v.number != "$LATEST"]
    assert published[n].number == offered.group(1)
    assert published[n].code_sha256 == code_sha256(v1)
    if (
        shape is SNAPSTART
    ):  # two versions each update (code, then SnapStart's configuration): -n 1 is v2's
        assert n > 1 and published[1].code_sha256 == code_sha256(v2)

    capsys.readouterr()
    cli.main(["status", "prod"])
    out = capsys.readouterr().out
    assert f"API Gateway invokes {qualifier}" in out
    serving = [line for line in out.splitlines() if line.startswith("* ")]
    assert len(serving) == 1 and code_sha256(v2) in serving[0] and "second" in serving[0]
    assert any(code_sha256(v1) in line and "first" in line for line in out.splitlines())

    # The offered rollback, with the shim back (Zappa's own rollback needs the code download).
    monkeypatch.delenv("VOJ_SHIM_WITHOUT")
    cli.main(["rollback", "prod", "--to-version", offered.group(1)])
    assert live.live("prod").code_sha256 == code_sha256(v1)
    assert "serves: version" in capsys.readouterr().out

    recorded = [json.loads(line) for line in zappa.operations.read_text().splitlines()]
    made = {f"{r['service']}:{r['operation']}" for r in tools}
    assert {"s3:PutObject", "lambda:GetFunctionConfiguration"} <= made
    assert uncovered(tools + recorded) == []  # deploy/deployer-policy.json allows all of it
