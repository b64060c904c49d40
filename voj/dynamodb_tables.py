"""voj's DynamoDB tables as the CloudFormation stack (deploy/stack.yaml) defines them, created
where they are missing.

The stack is the one definition of every table: the tests, the prod-like local mode and
`manage.py create_tables` create theirs from it, so what runs in moto and DynamoDB Local is what
deploys. Each app names its own tables' resources (books/repository/tables.py,
voj/security/dynamodb.py); this module knows only how to read and create one.

Creation is idempotent and safe when several processes do it at once (test workers, two local
servers starting): a table that exists is left as it is (its definition is not compared or
changed); a table another process created meanwhile counts as there; either way the call
returns once the table is ACTIVE.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError

STACK_TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "stack.yaml"


class TableCreationFailed(Exception):
    """DynamoDB refused or never finished a table (permissions, account limits, a table being
    deleted): the table's name and DynamoDB's reason, for an operator to act on."""

    def __init__(self, table: str, reason: str) -> None:
        super().__init__(f"DynamoDB table {table} could not be created: {reason}")
        self.table = table
        self.reason = reason


@cache
def template_resources(template: Path) -> dict[str, Any]:
    """A CloudFormation template's resources, with its short-form tags (``!Ref``, ``!Sub``) kept
    as plain values (``{"!Ref": ...}``)."""
    # The DynamoDB path of a Lambda imports this module (voj.security.dynamodb) but never reads
    # a template.
    import yaml  # noqa: PLC0415 (cold start: yaml is ~30 ms of -X importtime, for table creation only)

    class CfnLoader(yaml.SafeLoader):
        pass

    def tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:
            raise yaml.YAMLError(f"unexpected node {node!r}")
        return {f"!{suffix}": value}

    CfnLoader.add_multi_constructor("!", tag)
    return yaml.load(template.read_text(), Loader=CfnLoader)["Resources"]  # noqa: S506


def stack_resources() -> dict[str, Any]:
    """The resources of voj's core stack (deploy/stack.yaml)."""
    return template_resources(STACK_TEMPLATE)


def table_definition(resource: str, name: str) -> dict[str, Any]:
    """The CreateTable request for the stack's ``resource``, named ``name``."""
    properties = stack_resources()[resource]["Properties"]
    definition = {
        "TableName": name,
        "BillingMode": properties["BillingMode"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
    }
    for indexes in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if properties.get(indexes):
            definition[indexes] = properties[indexes]
    return definition


def _status(client: Any, name: str) -> str | None:
    # One DescribeTable per table: a listing would be paged at 100 names.
    try:
        return client.describe_table(TableName=name)["Table"]["TableStatus"]
    except client.exceptions.ResourceNotFoundException:
        return None


def _create(client: Any, resource: str, name: str) -> bool:
    """CreateTable; False when another process created the table first."""
    try:
        client.create_table(**table_definition(resource, name))
    except client.exceptions.ResourceInUseException:
        return False
    return True


def _apply_time_to_live(client: Any, resource: str, name: str) -> None:
    ttl = stack_resources()[resource]["Properties"].get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"],
                "Enabled": ttl["Enabled"],
            },
        )


def create_table(client: Any, resource: str, name: str) -> bool:
    """Create the stack's table ``resource`` as ``name`` unless it exists, with its TTL where
    the stack gives one; return once it is ACTIVE. True if this call created it.

    Only the creator applies the TTL: DynamoDB refuses to enable TTL twice, and a table that
    already existed is left as it is."""
    try:
        status = _status(client, name)
        created = status is None and _create(client, resource, name)
        if status != "ACTIVE":
            client.get_waiter("table_exists").wait(TableName=name)
        if created:
            _apply_time_to_live(client, resource, name)
    except ClientError as error:
        raise TableCreationFailed(name, str(error)) from error
    except WaiterError as error:
        raise TableCreationFailed(name, f"not ACTIVE in time ({error})") from error
    return created


def create_tables(client: Any, tables: dict[str, str]) -> dict[str, bool]:
    """Create each of ``tables`` (the stack's resource -> the table's name) as create_table
    does. Returns, by table name, whether it was created here."""
    return {name: create_table(client, resource, name) for resource, name in tables.items()}
