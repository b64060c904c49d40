"""What can be proven about the deploy without AWS: lint, moto, the policy, the tables."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from books.repository import tables
from books.repository.dynamodb import DynamoDBRepository
from listening.repository import tables as listening_tables
from streaming.keys import COVER_UPLOAD_PREFIX
from voj.aws import aws_client
from voj.dynamodb_tables import template_resources

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATES = sorted(DEPLOY.glob("*.yaml"))
PARAMETERS = [
    {"ParameterKey": "Stage", "ParameterValue": "prod"},
    {"ParameterKey": "ApiOrigin", "ParameterValue": "https://api.voj.test"},
    {"ParameterKey": "FrontendOrigin", "ParameterValue": "https://app.voj.test"},
    {"ParameterKey": "AlarmEmail", "ParameterValue": "ops@voj.test"},
]


def load(name: str) -> dict:
    return template_resources(DEPLOY / name)


def test_templates_exist():
    assert {t.name for t in TEMPLATES} == {
        "stack.yaml",
        "edge.yaml",
        "monitoring.yaml",
        "cdn-alarms.yaml",
        "database.yaml",
    }


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_cfn_lint(template):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _keys(schema):
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def test_tables_have_exactly_what_the_repository_queries():
    resources = load("stack.yaml")
    books = resources["BooksTable"]["Properties"]
    chapters = resources["ChaptersTable"]["Properties"]
    assert _keys(books["KeySchema"]) == [("book_id", "HASH"), ("sk", "RANGE")]
    assert {i["IndexName"]: _keys(i["KeySchema"]) for i in books["GlobalSecondaryIndexes"]} == {
        tables.BOOKS_BY_CREATED_INDEX: [("list_pk", "HASH"), ("list_sk", "RANGE")],
        tables.BOOKS_BY_VISIBILITY_INDEX: [("visible_pk", "HASH"), ("visible_sk", "RANGE")],
    }
    assert _keys(chapters["KeySchema"]) == [("book_id", "HASH"), ("chapter_id", "RANGE")]
    assert {"AttributeName": "number", "AttributeType": "N"} in chapters["AttributeDefinitions"]
    assert {i["IndexName"]: _keys(i["KeySchema"]) for i in chapters["LocalSecondaryIndexes"]} == {
        tables.CHAPTERS_BY_NUMBER_INDEX: [("book_id", "HASH"), ("number", "RANGE")],
    }
    assert {i["IndexName"]: _keys(i["KeySchema"]) for i in chapters["GlobalSecondaryIndexes"]} == {
        tables.CHAPTERS_BY_ID_INDEX: [("chapter_id", "HASH")],
        tables.CHAPTERS_BY_STATUS_INDEX: [("status", "HASH"), ("updated_at", "RANGE")],
    }
    listening = resources["ListeningTable"]["Properties"]
    assert _keys(listening["KeySchema"]) == [("pk", "HASH"), ("sk", "RANGE")]
    assert {i["IndexName"]: _keys(i["KeySchema"]) for i in listening["LocalSecondaryIndexes"]} == {
        listening_tables.BOOKMARKS_IN_BOOK_ORDER_INDEX: [("pk", "HASH"), ("o", "RANGE")],
        listening_tables.BOOKMARKS_BY_CREATED_INDEX: [("pk", "HASH"), ("c", "RANGE")],
    }
    assert {i["IndexName"]: _keys(i["KeySchema"]) for i in listening["GlobalSecondaryIndexes"]} == {
        listening_tables.BY_BOOK_INDEX: [("b", "HASH")],
    }
    for table in (books, chapters, listening):
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["DeletionProtectionEnabled"] == {"!If": ["IsProd", True, False]}
        # Every attribute defined is a key of the table or an index, and vice versa.
        indexes = table["GlobalSecondaryIndexes"] + table.get("LocalSecondaryIndexes", [])
        keyed = {k["AttributeName"] for k in table["KeySchema"]} | {
            k["AttributeName"] for i in indexes for k in i["KeySchema"]
        }
        assert {a["AttributeName"] for a in table["AttributeDefinitions"]} == keyed


def _statements(policy_document):
    statements = policy_document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_lambda_role_is_least_privilege():
    role = load("stack.yaml")["LambdaRole"]["Properties"]
    grant = load("edge.yaml")["InvalidationGrant"]["Properties"]
    documents = [p["PolicyDocument"] for p in role["Policies"]] + [grant["PolicyDocument"]]
    actions, resources = [], []
    for document in documents:
        for statement in _statements(document):
            assert statement["Effect"] == "Allow"
            actions += _as_list(statement["Action"])
            resources += _as_list(statement["Resource"])
    assert not [a for a in actions if a == "*" or a.endswith(":*")], actions
    assert "*" not in resources
    rendered = [str(r) for r in resources]
    # S3 is granted by prefix, never the whole bucket's objects.
    s3_objects = [r for r in rendered if "MediaBucket.Arn}/" in r]
    assert sorted(s3_objects) == sorted(
        [
            "{'!Sub': '${MediaBucket.Arn}/uploads/*'}",
            "{'!Sub': '${MediaBucket.Arn}/media/*'}",
            "{'!Sub': '${MediaBucket.Arn}/covers/*'}",
            "{'!Sub': '${MediaBucket.Arn}/system/operator-db.sqlite3'}",
        ]
    )
    # Table and index ARNs, the one SSM path, the one log group, the one distribution.
    assert any("BooksTable.Arn}/index/*" in r for r in rendered)
    assert any("parameter/voj/${Stage}" in r for r in rendered)
    assert any("FunctionLogGroup.Arn" in r for r in rendered)
    assert any("distribution/${Distribution}" in r for r in rendered)
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    assert "cloudfront:CreateInvalidation" in actions
    assert not any(a.startswith(("iam:", "kms:", "secretsmanager:")) for a in actions)


def test_bucket_is_private_and_reachable_only_through_this_distribution():
    bucket = load("stack.yaml")["MediaBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-stale-uploads"]["Prefix"] == "uploads/"
    assert rules["expire-stale-uploads"]["ExpirationInDays"] == 1
    # Pending cover uploads are swept with the audio ones.
    assert COVER_UPLOAD_PREFIX.startswith(rules["expire-stale-uploads"]["Prefix"])
    assert rules["abort-incomplete-multipart"]["AbortIncompleteMultipartUpload"]
    cors = {r["Id"]: r for r in bucket["CorsConfiguration"]["CorsRules"]}
    assert set(cors["playback"]["AllowedMethods"]) == {"GET", "HEAD"}
    assert "Range" in cors["playback"]["AllowedHeaders"]
    assert cors["upload-form"]["AllowedMethods"] == ["POST"]
    policy = load("edge.yaml")["MediaBucketPolicy"]["Properties"]["PolicyDocument"]
    allow, deny = _statements(policy)
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "distribution/${Distribution}" in str(allow["Condition"]["StringEquals"])
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def test_zappa_bucket_is_the_stacks_private_bucket():
    import json

    bucket = load("stack.yaml")["ZappaBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["BucketName"] == {"!Sub": "voj-zappa-packages-${Stage}"}
    settings = json.loads((DEPLOY.parent / "zappa_settings.json").read_text())
    assert [settings[stage]["s3_bucket"] for stage in ("dev", "prod")] == [
        "voj-zappa-packages-dev",
        "voj-zappa-packages-prod",
    ]


def test_cloudfront_keeps_range_and_signing():
    distribution = load("edge.yaml")["Distribution"]["Properties"]["DistributionConfig"]
    behaviour = distribution["DefaultCacheBehavior"]
    assert behaviour["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # CachingOptimized
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["TrustedKeyGroups"] == [{"!Ref": "SigningKeyGroup"}]
    assert distribution["HttpVersion"] == "http2and3"
    origin = distribution["Origins"][0]
    assert origin["OriginAccessControlId"] == {"!GetAtt": "MediaOriginAccessControl.Id"}


def test_cloudfront_serves_covers_unsigned_and_everything_else_signed():
    resources = load("edge.yaml")
    distribution = resources["Distribution"]["Properties"]["DistributionConfig"]
    [covers] = distribution["CacheBehaviors"]
    assert covers["PathPattern"] == "covers/*"
    assert "TrustedKeyGroups" not in covers and "TrustedSigners" not in covers
    assert covers["TargetOriginId"] == distribution["Origins"][0]["Id"]
    assert covers["ViewerProtocolPolicy"] == "https-only"
    assert covers["AllowedMethods"] == ["GET", "HEAD"]
    # CachingOptimized: the object's max-age (a year) is kept, up to its one-year maximum.
    assert covers["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert distribution["DefaultCacheBehavior"]["TrustedKeyGroups"]
    policy = resources["MediaBucketPolicy"]["Properties"]["PolicyDocument"]
    readable = str(_statements(policy)[0]["Resource"])
    assert "/media/*" in readable and "/covers/*" in readable and "/uploads/" not in readable
    role = load("stack.yaml")["LambdaRole"]["Properties"]
    [covers_grant] = [
        statement
        for policy in role["Policies"]
        for statement in _statements(policy["PolicyDocument"])
        if "covers/" in str(statement["Resource"])
    ]
    assert sorted(covers_grant["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]


def test_cloudfront_logs_every_request_to_a_private_bucket_that_expires_them():
    resources = load("edge.yaml")
    distribution = resources["Distribution"]["Properties"]["DistributionConfig"]
    assert distribution["Logging"] == {
        "Bucket": {"!GetAtt": "AccessLogBucket.DomainName"},
        "Prefix": "cloudfront/",
        "IncludeCookies": False,
    }
    bucket = resources["AccessLogBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    # Standard logging writes through an ACL grant, so ACLs stay enabled (but never public).
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-access-logs"]["ExpirationInDays"] == {"!Ref": "AccessLogDays"}
    assert rules["expire-access-logs"]["Status"] == "Enabled"
    assert resources["AccessLogBucket"]["DeletionPolicy"] == "Retain"
    policy = resources["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = _statements(policy)
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def test_a_custom_audio_domain_requires_tls_1_2():
    distribution = load("edge.yaml")["Distribution"]["Properties"]["DistributionConfig"]
    assert distribution["ViewerCertificate"] == {
        "!If": [
            "HasCustomDomain",
            {
                "AcmCertificateArn": {"!Ref": "AudioCertificateArn"},
                "SslSupportMethod": "sni-only",
                "MinimumProtocolVersion": "TLSv1.2_2021",
            },
            {"CloudFrontDefaultCertificate": True},
        ]
    }
    assert distribution["Aliases"] == {
        "!If": ["HasCustomDomain", [{"!Ref": "AudioDomain"}], {"!Ref": "AWS::NoValue"}]
    }


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_checkov_skip_says_why(template):
    resources = load(template.name)
    for name, resource in resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_"), (name, skip)
            assert len(skip.get("comment", "")) > 40, (name, skip)


@pytest.mark.filterwarnings("ignore:Tried to parse")
def test_core_stack_deploys_into_moto(aws):
    cloudformation = aws_client("cloudformation")
    cloudformation.create_stack(
        StackName="voj-prod-core",
        TemplateBody=(DEPLOY / "stack.yaml").read_text(),
        Parameters=PARAMETERS,
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName="voj-prod-core")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["BooksTableName"] == "voj-books-prod"
    assert outputs["ChaptersTableName"] == "voj-audio-chapters-prod"
    assert outputs["SecretsPath"] == "/voj/prod/"

    dynamodb = aws_client("dynamodb")
    chapters = dynamodb.describe_table(TableName="voj-audio-chapters-prod")["Table"]
    assert {i["IndexName"] for i in chapters["GlobalSecondaryIndexes"]} == {
        "chapters-by-id",
        "chapters-by-status",
    }
    s3 = aws_client("s3")
    bucket = outputs["MediaBucketName"]
    assert bucket == "voj-audiobooks-prod"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    iam = aws_client("iam")
    role_name = outputs["LambdaRoleArn"].rsplit("/", 1)[1]
    assert set(iam.list_role_policies(RoleName=role_name)["PolicyNames"]) == {
        "voj-media",
        "voj-catalogue",
        "voj-listening",
        "voj-security-state",
        "voj-secrets",
        "voj-logs",
    }
    # moto's CloudFormation leaves TTL off; tests/voj/test_security_state.py checks the
    # template's TTL as create_security_table applies it.
    assert outputs["SecurityTableName"] == "voj-security-prod"
    security = iam.get_role_policy(RoleName=role_name, PolicyName="voj-security-state")
    policy = str(security["PolicyDocument"])
    assert "dynamodb:UpdateItem" in policy and "Scan" not in policy and "Query" not in policy
    # stream-url and progress read the account's record inside the catalogue's BatchGetItem:
    # without it every such request would be refused by IAM (moto does not enforce IAM).
    assert "dynamodb:BatchGetItem" in policy
    groups = aws_client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/voj-prod")
    assert groups["logGroups"][0]["retentionInDays"] == 30

    # The repository works on the tables the stack created.
    repository = DynamoDBRepository(
        client=dynamodb, books_table="voj-books-prod", chapters_table="voj-audio-chapters-prod"
    )
    from books.domain import Book, Chapter, new_id

    book = repository.book_create(Book(title="t", author="a", owner=1))
    repository.chapter_create(Chapter(book_id=book.id, number=10, title="x"))
    repository.chapter_create(Chapter(book_id=book.id, number=9, title="y"))
    assert [c.number for c in repository.chapter_list(book.id, limit=5).items] == [9, 10]

    # And what listeners keep, on theirs, with its indexes; its policy reads no table by Scan.
    assert outputs["ListeningTableName"] == "voj-listening-prod"
    listening_table = dynamodb.describe_table(TableName="voj-listening-prod")["Table"]
    assert {i["IndexName"] for i in listening_table["LocalSecondaryIndexes"]} == {
        "bookmarks-in-book-order",
        "bookmarks-by-created",
    }
    assert [i["IndexName"] for i in listening_table["GlobalSecondaryIndexes"]] == ["by-book"]
    listening_policy = iam.get_role_policy(RoleName=role_name, PolicyName="voj-listening")
    assert "Scan" not in str(listening_policy["PolicyDocument"])
    from listening.domain import Bookmark
    from listening.repository.dynamodb import DynamoDBListeningRepository

    listening = DynamoDBListeningRepository(client=dynamodb, table="voj-listening-prod")
    mark = Bookmark(
        user_id=1, book_id=book.id, chapter_id=new_id(), chapter_number=9, position_seconds=1.5
    )
    listening.bookmark_create(mark, per_book_limit=1)
    assert listening.bookmark_list(user_id=1, book_id=book.id, limit=5).items == [mark]
    listening.book_forget(book_id=book.id)


DATA_TABLES = {"BooksTable", "ChaptersTable", "SecurityTable", "ListeningTable"}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_table_is_kept_and_recoverable(template):
    """Every table in every template holds data: a stack delete or a replacement keeps it,
    point-in-time recovery is on, and prod refuses to delete it."""
    resources = load(template.name)
    found = {name for name, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    if template.name == "stack.yaml":
        assert found == DATA_TABLES
    for name in found:
        table = resources[name]
        assert table.get("DeletionPolicy") == "Retain", name
        assert table.get("UpdateReplacePolicy") == "Retain", name
        properties = table["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True
        }, name
        assert properties["DeletionProtectionEnabled"] == {"!If": ["IsProd", True, False]}, name


@pytest.mark.filterwarnings("ignore:Tried to parse")
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deleting_the_core_stack_keeps_every_table(aws, stage):
    cloudformation = aws_client("cloudformation")
    name = f"voj-{stage}-core"
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=(DEPLOY / "stack.yaml").read_text(),
        Parameters=[
            {**p, "ParameterValue": stage} if p["ParameterKey"] == "Stage" else p
            for p in PARAMETERS
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    outputs = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    tables_made = {o["OutputValue"] for o in outputs if o["OutputKey"].endswith("TableName")}
    assert len(tables_made) == 4
    dynamodb = aws_client("dynamodb")
    dynamodb.put_item(TableName=f"voj-security-{stage}", Item={"pk": {"S": "kept"}})

    cloudformation.delete_stack(StackName=name)

    assert tables_made <= set(dynamodb.list_tables()["TableNames"])
    assert dynamodb.get_item(TableName=f"voj-security-{stage}", Key={"pk": {"S": "kept"}})["Item"]
    protected = {
        t: dynamodb.describe_table(TableName=t)["Table"]["DeletionProtectionEnabled"]
        for t in tables_made
    }
    assert protected == dict.fromkeys(tables_made, stage == "prod")


@pytest.mark.filterwarnings("ignore:Tried to parse")
def test_restored_tables_in_service_are_what_the_role_grants_and_the_outputs_name(aws):
    """After `table-restore`, the *TableInService parameters move the function's grants (and
    nothing else of the role) and the outputs `configure` reads to the restored tables; the
    stack's own tables stay, ungranted."""
    restored = {
        "Books": "voj-books-prod-restored-20261202-213000",
        "Chapters": "voj-audio-chapters-prod-restored-20261202-213000",
        "Security": "voj-security-prod-restored-20261202-213000",
        "Listening": "voj-listening-prod-restored-20261202-213000",
    }
    cloudformation = aws_client("cloudformation")
    cloudformation.create_stack(
        StackName="voj-prod-core",
        TemplateBody=(DEPLOY / "stack.yaml").read_text(),
        Parameters=PARAMETERS
        + [
            {"ParameterKey": f"{k}TableInService", "ParameterValue": v} for k, v in restored.items()
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName="voj-prod-core")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert {k: outputs[f"{k}TableName"] for k in restored} == restored
    iam = aws_client("iam")
    granted = []
    for name in ("voj-catalogue", "voj-listening", "voj-security-state"):
        document = iam.get_role_policy(RoleName="voj-prod-lambda", PolicyName=name)
        granted += re.findall(r":table/([^'\"]+)", str(document["PolicyDocument"]))
    assert sorted(granted) == sorted(
        [*restored.values(), *(f"{t}/index/*" for k, t in restored.items() if k != "Security")]
    )
    tables_left = set(aws_client("dynamodb").list_tables()["TableNames"])
    assert {"voj-books-prod", "voj-security-prod"} <= tables_left  # the stack's, retained


def test_only_restored_tables_of_the_stage_can_be_put_in_service():
    parameters = template_resources_parameters()
    for kind, base in (
        ("Books", "voj-books"),
        ("Chapters", "voj-audio-chapters"),
        ("Security", "voj-security"),
        ("Listening", "voj-listening"),
    ):
        pattern = re.compile(parameters[f"{kind}TableInService"]["AllowedPattern"])
        assert pattern.fullmatch("")
        assert pattern.fullmatch(f"{base}-prod-restored-20261202-213000")
        assert not pattern.fullmatch(f"{base}-prod")
        assert not pattern.fullmatch("voj-other-prod-restored-20261202-213000")


def template_resources_parameters() -> dict:
    from deploy.stacks import template_parameters

    return template_parameters("core")
