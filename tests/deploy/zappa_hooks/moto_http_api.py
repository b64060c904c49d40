"""Shims for what moto 5 lacks of API Gateway's HTTP API (apigatewayv2), named here and in
docs/deploy.md. Registered on a botocore client: in the Zappa process the drill starts
(sitecustomize.py) and on the deploy tools' clients in the tests.

- http-api-update-stage: moto has no UpdateStage for apigatewayv2. The shim answers it with
  moto's own GetStage, DeleteStage and CreateStage: the stage comes back with the settings it had
  and the ones the request changes, so GetStage afterwards reads what Lambda's API would hold.
- http-api-cloudformation: moto's CloudFormation creates no AWS::ApiGatewayV2::* resource (it
  warns and skips them). After Zappa's CreateStack or UpdateStack, the shim reads the template
  Zappa uploaded and makes its Api, Integration, Route and Stage through moto's apigatewayv2 API
  (the integration updated in place on an update); DescribeStackResource of ``ApiV2``, Zappa's
  name for the API, answers that API's id.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.awsrequest

_STAGE_FIELDS = ("AutoDeploy", "DefaultRouteSettings", "Description", "RouteSettings", "Tags")


def _ok(parsed: dict[str, Any]) -> tuple[botocore.awsrequest.AWSResponse, dict[str, Any]]:
    return botocore.awsrequest.AWSResponse("", 200, {}, None), {
        **parsed,
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }


def _sibling(client: Any, service: str) -> Any:
    """A client of another service at the same endpoint, with the same credentials."""
    credentials = client._request_signer._credentials
    sibling = boto3.client(
        service,
        endpoint_url=client.meta.endpoint_url,
        region_name=client.meta.region_name,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
    )
    # What the shim asks is moto's bookkeeping, not a request Zappa makes (sitecustomize.py).
    sibling.meta.events.unregister("before-parameter-build", unique_id="voj-record-operations")
    return sibling


def update_stage(client: Any, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateStage done with the calls moto has."""
    api = _sibling(client, "apigatewayv2")
    current = api.get_stage(ApiId=params["ApiId"], StageName=params["StageName"])
    kept = {key: current[key] for key in _STAGE_FIELDS if current.get(key)}
    changed = {key: params[key] for key in _STAGE_FIELDS if key in params}
    api.delete_stage(ApiId=params["ApiId"], StageName=params["StageName"])
    return api.create_stage(
        ApiId=params["ApiId"], StageName=params["StageName"], **{**kept, **changed}
    )


def _api_named(api: Any, name: str) -> dict[str, Any] | None:
    return next((item for item in api.get_apis()["Items"] if item["Name"] == name), None)


def _resolve(value: Any, region: str) -> Any:
    """The template's values that name no resource of its own (Fn::Join of literals and
    AWS::Region); the IntegrationUri Zappa writes is a literal ARN."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_resolve(part, region)) for part in parts)
    if isinstance(value, dict) and value.get("Ref") == "AWS::Region":
        return region
    return value


def make_http_api(client: Any, template: dict[str, Any]) -> str:
    """The template's HTTP API, its integration, route and stage, made (or brought up to date)
    through moto's apigatewayv2 API; returns the API's id."""
    resources = template["Resources"]

    def one(kind: str) -> dict[str, Any]:
        (props,) = [r["Properties"] for r in resources.values() if r["Type"] == kind]
        return props

    region = client.meta.region_name
    api = _sibling(client, "apigatewayv2")
    spec, integration = one("AWS::ApiGatewayV2::Api"), one("AWS::ApiGatewayV2::Integration")
    uri = _resolve(integration["IntegrationUri"], region)
    existing = _api_named(api, spec["Name"])
    if existing is None:
        api_id = api.create_api(Name=spec["Name"], ProtocolType=spec["ProtocolType"])["ApiId"]
        integration_id = api.create_integration(
            ApiId=api_id,
            IntegrationType=integration["IntegrationType"],
            IntegrationUri=uri,
            PayloadFormatVersion=integration["PayloadFormatVersion"],
        )["IntegrationId"]
        route = one("AWS::ApiGatewayV2::Route")
        api.create_route(
            ApiId=api_id,
            RouteKey=route["RouteKey"],
            AuthorizationType=route["AuthorizationType"],
            Target=f"integrations/{integration_id}",
        )
        stage = one("AWS::ApiGatewayV2::Stage")
        api.create_stage(ApiId=api_id, StageName=stage["StageName"], AutoDeploy=True)
        return api_id
    api_id = existing["ApiId"]
    for item in api.get_integrations(ApiId=api_id)["Items"]:
        api.update_integration(
            ApiId=api_id, IntegrationId=item["IntegrationId"], IntegrationUri=uri
        )
    return api_id


def _stack_written(client: Any, params: dict[str, Any]) -> None:
    """After CreateStack/UpdateStack: the HTTP API of the template Zappa sent (TemplateURL is
    https://s3.amazonaws.com/BUCKET/KEY, uploaded to the same endpoint)."""
    url = params.get("TemplateURL")
    if not url:
        return
    bucket, key = urlparse(url).path.lstrip("/").split("/", 1)
    template = json.loads(_sibling(client, "s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    if any(r["Type"] == "AWS::ApiGatewayV2::Api" for r in template["Resources"].values()):
        make_http_api(client, template)


def _describe_api(client: Any, params: dict[str, Any]) -> Any:
    if params.get("LogicalResourceId") != "ApiV2":
        return None  # moto answers
    found = _api_named(_sibling(client, "apigatewayv2"), params["StackName"])
    if found is None:
        return None  # moto's own "not found"
    return _ok(
        {
            "StackResourceDetail": {
                "StackName": params["StackName"],
                "LogicalResourceId": "ApiV2",
                "PhysicalResourceId": found["ApiId"],
                "ResourceType": "AWS::ApiGatewayV2::Api",
                "ResourceStatus": "CREATE_COMPLETE",
            }
        }
    )


def _keep_params(params, context, **kwargs):
    context["shim_params"] = dict(params)


def register(client: Any) -> Any:
    """The shims above, on a client of apigatewayv2 or CloudFormation."""
    events = client.meta.events
    service = client.meta.service_model.service_name
    if service not in ("apigatewayv2", "cloudformation"):
        return client
    events.register(f"before-parameter-build.{service}", _keep_params)
    if service == "apigatewayv2":
        events.register(
            "before-call.apigatewayv2.UpdateStage",
            lambda context, **kw: _ok(update_stage(client, context["shim_params"])),
        )
        return client
    for operation in ("CreateStack", "UpdateStack"):
        events.register(
            f"after-call.cloudformation.{operation}",
            lambda context, http_response, **kw: (
                http_response.status_code == 200 and _stack_written(client, context["shim_params"])
            ),
        )
    events.register(
        "before-call.cloudformation.DescribeStackResource",
        lambda context, **kw: _describe_api(client, context["shim_params"]),
    )
    return client
