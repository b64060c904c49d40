"""voj.dynamodb_tables: a table from the stack, created once however many processes try at once,
on moto and DynamoDB Local."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from botocore.awsrequest import AWSResponse
from django.core.management import CommandError, call_command
from moto.core.botocore_stubber import MockRawResponse

from books.repository.tables import BOOKS_RESOURCE
from voj.aws import aws_client, build_client
from voj.dynamodb_tables import TableCreationFailed, create_table, stack_resources
from voj.security.dynamodb import SECURITY_RESOURCE


@pytest.fixture(params=["moto", pytest.param("dynamodb-local", marks=pytest.mark.dynamodb_local)])
def names(request, aws, settings, monkeypatch) -> Iterator[list[str]]:
    """An empty DynamoDB, and table names no other test uses (DynamoDB Local is shared by the
    tests of a worker); whatever they name is deleted afterwards."""
    if request.param == "dynamodb-local":
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", request.getfixturevalue("dynamodb_local"))
    made: list[str] = []
    yield made
    client = aws_client("dynamodb")
    for name in set(made) & set(client.list_tables()["TableNames"]):
        client.delete_table(TableName=name)


def unique(names: list[str], kind: str) -> str:
    names.append(f"voj-{kind}-{uuid.uuid4().hex[:12]}")
    return names[-1]


def creator(settings) -> object:
    """A client of its own, as another process would have: botocore's event hooks are per
    client."""
    return build_client(
        "dynamodb", region=settings.VOJ_AWS_REGION, endpoint_url=settings.VOJ_AWS_ENDPOINT_URL
    )


@pytest.mark.parametrize("resource", [SECURITY_RESOURCE, BOOKS_RESOURCE])
def test_two_creators_at_once_make_one_table(names, settings, resource):
    name = unique(names, "race")
    both_looked = threading.Barrier(2, timeout=30)

    def create() -> bool:
        client = creator(settings)
        looked: list[bool] = []

        def after_describe(**_: object) -> None:
            # Each creator has seen no table before either creates it: both call CreateTable,
            # and the emulator refuses the later one with ResourceInUseException.
            if not looked:
                looked.append(True)
                both_looked.wait()

        client.meta.events.register("after-call.dynamodb.DescribeTable", after_describe)
        return create_table(client, resource, name)

    with ThreadPoolExecutor(2) as pool:
        results = [future.result() for future in [pool.submit(create) for _ in range(2)]]

    assert sorted(results) == [False, True], "exactly one creator made the table"
    client = aws_client("dynamodb")
    assert client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    ttl = stack_resources()[resource]["Properties"].get("TimeToLiveSpecification")
    described = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl:  # applied once, by the creator that won
        assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl["AttributeName"]}
    else:
        assert described["TimeToLiveStatus"] == "DISABLED"


def test_a_table_created_between_the_look_and_the_create_is_there(names, settings):
    """The other creator wins between this one's DescribeTable and its CreateTable."""
    name = unique(names, "race")
    client, other = creator(settings), creator(settings)

    def other_creates_first(**_: object) -> None:
        client.meta.events.unregister("before-call.dynamodb.CreateTable", other_creates_first)
        assert create_table(other, SECURITY_RESOURCE, name) is True

    client.meta.events.register("before-call.dynamodb.CreateTable", other_creates_first)
    assert create_table(client, SECURITY_RESOURCE, name) is False
    assert client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_an_existing_table_is_left_as_it_is(names, settings):
    name = unique(names, "kept")
    client = aws_client("dynamodb")
    assert create_table(client, SECURITY_RESOURCE, name) is True
    client.put_item(TableName=name, Item={"pk": {"S": "kept"}})
    assert create_table(client, SECURITY_RESOURCE, name) is False
    assert client.scan(TableName=name)["Count"] == 1


def refuse_create_table(client) -> None:
    """DynamoDB's answer to a role without dynamodb:CreateTable, before the call reaches the
    emulator (neither checks permissions)."""
    body = b'{"__type":"AccessDeniedException","message":"not authorized to CreateTable"}'

    def refuse(params, **_: object):
        http = AWSResponse(params["url"], 400, {}, MockRawResponse(body))
        error = {"Code": "AccessDeniedException", "Message": "not authorized to CreateTable"}
        return http, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    client.meta.events.register_first("before-call.dynamodb.CreateTable", refuse)


def test_a_refused_create_is_a_creation_failure_naming_the_table(names, settings):
    name = unique(names, "refused")
    client = creator(settings)
    refuse_create_table(client)
    with pytest.raises(TableCreationFailed) as failed:
        create_table(client, SECURITY_RESOURCE, name)
    assert failed.value.table == name
    assert "AccessDeniedException" in str(failed.value)


def test_the_command_reports_a_refused_create_in_one_line(names, settings):
    settings.VOJ_BOOKS_TABLE = unique(names, "books")
    settings.VOJ_CHAPTERS_TABLE = unique(names, "chapters")
    settings.VOJ_SECURITY_TABLE = unique(names, "security")
    settings.VOJ_LISTENING_TABLE = unique(names, "listening")
    refuse_create_table(aws_client("dynamodb"))
    with pytest.raises(CommandError, match=f"{settings.VOJ_BOOKS_TABLE} could not be created"):
        call_command("create_tables", stdout=StringIO())
