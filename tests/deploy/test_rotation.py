"""A whole key rotation against moto: every URL signed before the switch keeps verifying until
the retire step, new URLs verify with the new key, and no step changes the signing key by
omission. CloudFront's check is modelled from the edge stack as it stands: a URL verifies when
its Key-Pair-Id is a key the stack's key group trusts and its signature verifies with that key."""

from __future__ import annotations

import base64
import io
import json
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from deploy import keys, rotation, stacks
from deploy.configure import stage_settings
from deploy.local.lambda_harness import CORE_TEST_PARAMETERS
from tests.deploy.iam import record_operations, uncovered
from voj.aws import aws_client

ROOT = Path(__file__).resolve().parents[2]
AUDIO = "https://d111.cloudfront.net/media/books/b1/chapters/c1-1.m4a"

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse")


def cloudfront_keys_as_cloudformation_makes_them() -> None:
    """Shim: moto's CloudFormation does not create AWS::CloudFront::PublicKey resources, so
    after each edge apply the keys the stack declares (deploy/edge.yaml: one per slot holding a
    key, named by slot and generation) are made through moto's CloudFront API, and the ones it
    no longer declares are deleted, as CloudFormation does on AWS."""
    cloudfront = aws_client("cloudfront")
    parameters = edge_parameters()
    wanted = {
        rotation.key_name("prod", slot, parameters.get(slot.generation_parameter) or "1"): (
            parameters[slot.key_parameter]
        )
        for slot in rotation.SLOTS.values()
        if parameters.get(slot.key_parameter)
    }
    existing = {
        item["Name"]: item["Id"]
        for item in cloudfront.list_public_keys()["PublicKeyList"].get("Items", [])
    }
    for name, encoded in wanted.items():
        if name not in existing:
            cloudfront.create_public_key(
                PublicKeyConfig={"CallerReference": name, "Name": name, "EncodedKey": encoded}
            )
    for name, key in existing.items():
        if name not in wanted:
            etag = cloudfront.get_public_key(Id=key)["ETag"]
            cloudfront.delete_public_key(Id=key, IfMatch=etag)


@pytest.fixture
def stage(aws, tmp_path, monkeypatch) -> Path:
    """Core and edge stacks, the key, and the function deployed with zappa_settings.json."""
    monkeypatch.setattr(keys, "KEYS", tmp_path / "keys")
    apply = stacks.stack_apply

    def stack_apply(stage, template, parameters, *, yes):
        result = apply(stage, template, parameters, yes=yes)
        if template == "edge":
            cloudfront_keys_as_cloudformation_makes_them()
        return result

    monkeypatch.setattr(stacks, "stack_apply", stack_apply)
    settings_file = tmp_path / "zappa_settings.json"
    shutil.copy(ROOT / "zappa_settings.json", settings_file)
    stacks.stack_apply("prod", "core", CORE_TEST_PARAMETERS, yes=True)
    keys.keys_create("prod")
    stacks.stack_apply("prod", "edge", {}, yes=True)
    document = json.loads(settings_file.read_text())
    document["prod"]["environment_variables"]["VOJ_CDN_KEY_ID"] = rotation.key_id(
        "prod", rotation.SLOTS["a"]
    )
    settings_file.write_text(json.dumps(document))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", "")
    aws_client("lambda").create_function(
        FunctionName="voj-prod",
        Runtime="python3.12",
        Role=aws_client("iam").get_role(RoleName="voj-prod-lambda")["Role"]["Arn"],
        Handler="handler.lambda_handler",
        Code={"ZipFile": archive.getvalue()},
        Environment={"Variables": env(settings_file)},
    )
    return settings_file


def env(settings_file: Path) -> dict[str, str]:
    return stage_settings("prod", settings_file)["environment_variables"]


def release(settings_file: Path) -> None:
    """What `zappa update` does to the function's configuration: the stage's environment."""
    aws_client("lambda").update_function_configuration(
        FunctionName="voj-prod", Environment={"Variables": env(settings_file)}
    )


def sign(url: str) -> str:
    """A stream URL as the deployed function signs it: its key id and its key slot's secret."""
    variables = aws_client("lambda").get_function_configuration(FunctionName="voj-prod")[
        "Environment"
    ]["Variables"]
    name = variables.get("VOJ_CDN_PRIVATE_KEY_NAME") or "CLOUDFRONT_PRIVATE_KEY"
    pem = aws_client("ssm").get_parameter(Name=f"/voj/prod/{name}", WithDecryption=True)
    private = serialization.load_pem_private_key(pem["Parameter"]["Value"].encode(), password=None)
    signer = CloudFrontSigner(
        variables["VOJ_CDN_KEY_ID"],
        lambda message: private.sign(message, padding.PKCS1v15(), hashes.SHA1()),
    )
    return signer.generate_presigned_url(
        url, date_less_than=datetime.now(UTC) + timedelta(hours=12)
    )


def verifies(signed: str) -> bool:
    query = {k: v[0] for k, v in parse_qs(urlsplit(signed).query).items()}
    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in aws_client("cloudformation").describe_stacks(StackName="voj-prod-edge")["Stacks"][
            0
        ]["Parameters"]
    }
    trusted = {
        rotation.key_id("prod", slot, parameters): parameters[slot.key_parameter]
        for slot in rotation.SLOTS.values()
        if parameters.get(slot.key_parameter)
    }
    if query["Key-Pair-Id"] not in trusted:
        return False
    public = serialization.load_pem_public_key(trusted[query["Key-Pair-Id"]].encode())
    signature = base64.b64decode(
        query["Signature"].replace("-", "+").replace("_", "=").replace("~", "/")
    )
    policy = CloudFrontSigner(query["Key-Pair-Id"], None).build_policy(
        signed.split("?")[0], datetime.fromtimestamp(int(query["Expires"]), UTC)
    )
    try:
        public.verify(signature, policy.encode(), padding.PKCS1v15(), hashes.SHA1())
    except InvalidSignature:
        return False
    return True


def edge_parameters() -> dict[str, str]:
    stack = aws_client("cloudformation").describe_stacks(StackName="voj-prod-edge")["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def test_rotation_keeps_old_urls_valid_until_the_retire(stage, monkeypatch):
    recorded = record_operations(monkeypatch)
    old_url = sign(AUDIO)
    assert verifies(old_url)
    assert rotation.status("prod", stage) == "add"

    rotation.add("prod", yes=True, settings_file=stage)
    assert edge_parameters()["NextKeyGeneration"] == "2"
    assert edge_parameters()["CloudFrontPublicKeyNext"].startswith("-----BEGIN PUBLIC KEY")
    assert verifies(old_url)
    assert verifies(sign(AUDIO))  # nothing switched yet: still the old key
    assert sign(AUDIO).split("Key-Pair-Id=")[1] == old_url.split("Key-Pair-Id=")[1]
    with pytest.raises(SystemExit, match="rotation is under way"):
        rotation.add("prod", yes=True, settings_file=stage)
    # A plain edge update in the middle changes no key.
    stacks.stack_apply("prod", "edge", {}, yes=True)
    assert verifies(old_url) and len(rotation.state("prod", stage).trusted) == 2
    assert rotation.status("prod", stage) == "switch"

    rotation.switch("prod", settings_file=stage)
    assert rotation.status("prod", stage) == "release"
    with pytest.raises(SystemExit, match="does not sign with slot b yet: release first"):
        rotation.retire("prod", yes=True, settings_file=stage)
    release(stage)
    new_url = sign(AUDIO)
    assert new_url != old_url and verifies(new_url)
    assert verifies(old_url)  # handed out before the switch: still plays

    assert rotation.status("prod", stage) == "retire"
    with pytest.raises(SystemExit, match="stay valid for"):
        rotation.retire("prod", yes=True, settings_file=stage)
    assert verifies(old_url)
    later = datetime.now(UTC) + timedelta(hours=12, minutes=1)
    rotation.retire("prod", yes=True, now=later, settings_file=stage)
    assert not verifies(old_url)  # retired: the old key is trusted no more
    assert verifies(new_url)
    assert edge_parameters()["CloudFrontPublicKey"] == ""
    names = [p["Name"] for p in aws_client("ssm").describe_parameters()["Parameters"]]
    assert "/voj/prod/CLOUDFRONT_PRIVATE_KEY" not in names

    # The next rotation goes the other way, into slot a, with a new generation.
    assert rotation.status("prod", stage) == "add"
    assert rotation.add("prod", yes=True, settings_file=stage).name == "a"
    assert edge_parameters()["KeyGeneration"] == "2"
    assert verifies(new_url)
    assert uncovered(recorded) == []  # deploy/deployer-policy.json allows every step


def test_retire_never_touches_the_signing_slot(stage):
    with pytest.raises(SystemExit, match="slot b holds no key: nothing to retire"):
        rotation.retire("prod", yes=True, force=True, settings_file=stage)
    with pytest.raises(SystemExit, match="slot b holds no key: keys rotate prod --step add"):
        rotation.switch("prod", settings_file=stage)
    rotation.add("prod", yes=True, settings_file=stage)
    with pytest.raises(SystemExit, match="slot b holds the newest key, not yet signing"):
        rotation.retire("prod", yes=True, force=True, settings_file=stage)
    assert verifies(sign(AUDIO))
