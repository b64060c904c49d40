"""The deploy tools against moto: idempotent, and secrets never printed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from deploy import cli, keys, shared, stacks, stage_secrets, throttle
from deploy.configure import configure
from tests.deploy.zappa_hooks import moto_http_api
from voj.aws import aws_client

ROOT = Path(__file__).resolve().parents[2]
CORE_PARAMS = {
    "ApiOrigin": "https://api.voj.test",
    "FrontendOrigin": "https://app.voj.test",
    "AlarmEmail": "ops@voj.test",
}


@pytest.fixture
def keys_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "KEYS", tmp_path / "keys")
    return tmp_path / "keys"


def ssm_value(name):
    return aws_client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse")


def test_secrets_put_is_idempotent_and_silent(aws, capsys):
    assert stage_secrets.secrets_put("prod") == list(stage_secrets.SECRET_NAMES)
    first = ssm_value("/voj/prod/DJANGO_SECRET_KEY")
    assert len(first) >= 50
    assert stage_secrets.secrets_put("prod") == []
    assert ssm_value("/voj/prod/DJANGO_SECRET_KEY") == first
    assert stage_secrets.secrets_put("prod", rotate="JWT_SIGNING_KEY") == ["JWT_SIGNING_KEY"]
    assert ssm_value("/voj/prod/DJANGO_SECRET_KEY") == first
    parameter = aws_client("ssm").get_parameter(Name="/voj/prod/JWT_SIGNING_KEY")["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert first not in capsys.readouterr().out


def test_keys_create(aws, keys_dir, capsys):
    path = keys.keys_create("prod")
    private_pem = ssm_value("/voj/prod/CLOUDFRONT_PRIVATE_KEY")
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public = serialization.load_pem_public_key(path.read_bytes())
    assert public.public_numbers() == private.public_key().public_numbers()
    again = keys.keys_create("prod")  # idempotent: the same key, the same public file
    assert again.read_bytes() == path.read_bytes()
    assert ssm_value("/voj/prod/CLOUDFRONT_PRIVATE_KEY") == private_pem
    rotated = keys.keys_create("prod", rotate=True)
    assert rotated.name == "prod-cloudfront-next.pub.pem"
    assert rotated.read_bytes() != path.read_bytes()
    assert "PRIVATE KEY" not in capsys.readouterr().out


def test_stack_plan_then_apply(aws, capsys, monkeypatch):
    plan = stacks.stack_plan("prod", "core", CORE_PARAMS)
    assert plan["stack"] == "voj-prod-core"
    created = {c["LogicalResourceId"] for c in plan["changes"] if c["Action"] == "Add"}
    assert {"MediaBucket", "BooksTable", "ChaptersTable", "LambdaRole"} <= created
    out = capsys.readouterr().out
    assert "Add" in out and "LambdaRole" in out
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert stacks.stack_apply("prod", "core", CORE_PARAMS, yes=False) == "NOT_APPLIED"
    assert stacks.stack_apply("prod", "core", CORE_PARAMS, yes=True) == "CREATE_COMPLETE"
    assert "voj-books-prod" in aws_client("dynamodb").list_tables()["TableNames"]
    assert aws_client("s3").head_bucket(Bucket="voj-audiobooks-prod")
    # A second apply of the same template changes nothing.
    assert stacks.stack_apply("prod", "core", CORE_PARAMS, yes=True) in {
        "UNCHANGED",
        "UPDATE_COMPLETE",
    }


def test_configure_writes_names_only(aws, tmp_path):
    # moto fills Outputs only for stacks made with create_stack, not through change sets.
    aws_client("cloudformation").create_stack(
        StackName="voj-prod-core",
        TemplateBody=(ROOT / "deploy" / "stack.yaml").read_text(),
        Parameters=stacks.creation_parameters("prod", "core", CORE_PARAMS),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    settings_file = tmp_path / "zappa_settings.json"
    shutil.copy(ROOT / "zappa_settings.json", settings_file)
    with pytest.raises(SystemExit):  # no edge stack: the core's names, then a warning
        configure("prod", settings_file)
    names = configure("prod", settings_file, without_edge=True)
    document = json.loads(settings_file.read_text())
    env = document["prod"]["environment_variables"]
    assert env["VOJ_MEDIA_BUCKET"] == "voj-audiobooks-prod"
    assert env["VOJ_SECRETS"] == "/voj/prod/"
    assert document["prod"]["s3_bucket"] == "voj-zappa-packages-prod"  # the stack's bucket
    assert names["VOJ_BOOKS_TABLE"] == env["VOJ_BOOKS_TABLE"]
    assert env["VOJ_SECURITY_TABLE"] == "voj-security-prod"
    assert env["VOJ_LISTENING_TABLE"] == "voj-listening-prod"
    assert document["dev"] == json.loads((ROOT / "zappa_settings.json").read_text())["dev"]


def test_throttle_sets_the_http_api_stage_rate_and_burst(aws, capsys, monkeypatch):
    """moto has no UpdateStage for HTTP APIs: the shim http-api-update-stage answers it with
    moto's own calls (tests/deploy/zappa_hooks/moto_http_api.py, docs/deploy.md)."""
    build = shared.client
    monkeypatch.setattr(shared, "client", lambda *a, **k: moto_http_api.register(build(*a, **k)))
    apigateway = aws_client("apigatewayv2")
    with pytest.raises(SystemExit, match="deploy first"):
        throttle.stage_throttle("prod")
    apigateway.create_api(Name="voj-dev", ProtocolType="HTTP")  # another stage's API
    api = apigateway.create_api(Name="voj-prod", ProtocolType="HTTP")
    # As Zappa's stack makes it, with a setting of the stage's own that throttling keeps.
    apigateway.create_stage(
        ApiId=api["ApiId"],
        StageName="prod",
        AutoDeploy=True,
        DefaultRouteSettings={"DetailedMetricsEnabled": True},
    )

    cli.main(["throttle", "prod"])
    settings = apigateway.get_stage(ApiId=api["ApiId"], StageName="prod")["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == throttle.THROTTLE_RATE
    assert settings["ThrottlingBurstLimit"] == throttle.THROTTLE_BURST
    assert settings["DetailedMetricsEnabled"] is True
    cli.main(["throttle", "prod", "--rate", "20", "--burst", "40"])  # again: replaced
    stage = apigateway.get_stage(ApiId=api["ApiId"], StageName="prod")
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 20.0
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 40
    assert stage["AutoDeploy"] is True
    assert "20.0 requests/s, burst 40" in capsys.readouterr().out


def test_cli_parses(aws, keys_dir, capsys, monkeypatch):
    with pytest.raises(SystemExit, match="a terminal only"):  # captured: not a terminal
        cli.main(["secrets", "show", "dev", "OPERATOR_PASSWORD"])
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    with pytest.raises(SystemExit, match="secrets put"):
        cli.main(["secrets", "show", "dev", "OPERATOR_PASSWORD"])
    cli.main(["secrets", "put", "dev"])
    capsys.readouterr()
    cli.main(["secrets", "show", "dev", "OPERATOR_PASSWORD"])
    assert capsys.readouterr().out.strip() == ssm_value("/voj/dev/OPERATOR_PASSWORD")
    with pytest.raises(SystemExit):  # only the operator's first password is shown
        cli.main(["secrets", "show", "dev", "JWT_SIGNING_KEY"])
    cli.main(["keys", "create", "dev"])
    assert (keys_dir / "dev-cloudfront.pub.pem").exists()
    with pytest.raises(SystemExit):
        cli.main(["stack", "apply", "staging"])


@pytest.mark.django_db
def test_create_operator(monkeypatch, capsys):
    monkeypatch.setenv("FIRST_OPERATOR_PASSWORD", "a-long-operator-password")
    call_command(
        "create_operator", "--username", "admin", "--password-env", "FIRST_OPERATOR_PASSWORD"
    )
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("a-long-operator-password")
    call_command("create_operator", "--username", "admin", "--password-env", "NOPE")
    assert "exists; nothing changed" in capsys.readouterr().out
    assert "a-long-operator-password" not in capsys.readouterr().out


@pytest.mark.django_db
def test_create_operator_from_secrets(aws, settings):
    stage_secrets.secrets_put("prod")
    from voj.secrets import load_secrets

    load_secrets.cache_clear()
    settings.VOJ_SECRETS = "/voj/prod/"
    call_command("create_operator", "--username", "root")
    password = ssm_value("/voj/prod/OPERATOR_PASSWORD")
    assert User.objects.get(username="root").check_password(password)
    load_secrets.cache_clear()


@pytest.mark.django_db
def test_create_operator_needs_a_password(settings):
    settings.VOJ_SECRETS = ""
    with pytest.raises(CommandError, match="password-env"):
        call_command("create_operator", "--username", "x")


def test_configure_takes_the_key_id_of_the_signing_slot(tmp_path, monkeypatch):
    """After a rotation signs with slot b, configure must not put slot a's key id back (moto's
    CloudFormation yields no edge outputs, so the stacks' outputs are given here)."""
    outputs = {
        "core": {
            "MediaBucketName": "voj-audiobooks-prod",
            "BooksTableName": "voj-books-prod",
            "ChaptersTableName": "voj-audio-chapters-prod",
            "SecretsPath": "/voj/prod/",
            "SecurityTableName": "voj-security-prod",
            "ListeningTableName": "voj-listening-prod",
            "ZappaBucketName": "voj-zappa-packages-prod",
        },
        "edge": {
            "DistributionDomain": "d111.cloudfront.net",
            "DistributionId": "E1",
            "SigningKeyId": "KSLOTA",
            "SigningKeyNextId": "KSLOTB",
        },
    }
    monkeypatch.setattr(stacks, "stack_outputs", lambda stage, template: outputs[template])
    settings_file = tmp_path / "zappa_settings.json"
    shutil.copy(ROOT / "zappa_settings.json", settings_file)
    assert configure("prod", settings_file)["VOJ_CDN_KEY_ID"] == "KSLOTA"
    document = json.loads(settings_file.read_text())
    document["prod"]["environment_variables"]["VOJ_CDN_PRIVATE_KEY_NAME"] = (
        "CLOUDFRONT_PRIVATE_KEY_NEXT"
    )
    settings_file.write_text(json.dumps(document))
    assert configure("prod", settings_file)["VOJ_CDN_KEY_ID"] == "KSLOTB"


def test_secrets_set_stores_a_given_secret_and_never_prints_it(aws, monkeypatch, capsys):
    import io

    url = "postgres://voj_app:s3cret-pass@db.example:5432/voj"
    monkeypatch.setattr("sys.stdin", io.StringIO(url + "\n"))
    cli.main(["secrets", "set", "prod", "DATABASE_URL_NEXT"])
    assert ssm_value("/voj/prod/DATABASE_URL_NEXT") == url
    out = capsys.readouterr().out
    assert "/voj/prod/DATABASE_URL_NEXT written" in out and "s3cret" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("  \n"))
    with pytest.raises(SystemExit, match="nothing written"):
        cli.main(["secrets", "set", "prod", "DATABASE_URL_NEXT"])
    assert ssm_value("/voj/prod/DATABASE_URL_NEXT") == url
    with pytest.raises(SystemExit):  # only the secrets an operator gives
        cli.main(["secrets", "set", "prod", "JWT_SIGNING_KEY"])
    with pytest.raises(SystemExit):  # the active one is written by the switch only
        cli.main(["secrets", "set", "prod", "DATABASE_URL"])


def test_secrets_delete_removes_the_switchs_secrets_only(aws, monkeypatch, capsys):
    stage_secrets.put_parameter("prod", "DATABASE_URL_NEXT", "postgres://a:b@h/v", overwrite=False)
    stage_secrets.put_parameter("prod", "DATABASE_URL", "postgres://a:b@h/v", overwrite=False)
    cli.main(["secrets", "delete", "prod", "DATABASE_URL_NEXT"])
    assert "/voj/prod/DATABASE_URL_NEXT deleted" in capsys.readouterr().out
    cli.main(["secrets", "delete", "prod", "DATABASE_URL_NEXT"])
    assert "nothing to delete" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="opsdb-switch prod --to sqlite"):
        cli.main(["secrets", "delete", "prod", "DATABASE_URL"])
    assert ssm_value("/voj/prod/DATABASE_URL")
    cli.main(["secrets", "delete", "prod", "DATABASE_URL", "--yes"])
    with pytest.raises(SystemExit):  # generated secrets: never
        cli.main(["secrets", "delete", "prod", "JWT_SIGNING_KEY"])
