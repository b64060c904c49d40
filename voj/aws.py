"""The one place AWS clients are built: region, endpoint, addressing, retries and timeouts.

boto3 and botocore are imported at the top: on Lambda the production settings read the secrets
with them before anything else runs, so importing them here adds nothing to a cold start."""

from __future__ import annotations

import io
import logging
import os
import platform
import weakref
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.configprovider import ConfiguredEndpointProvider
from botocore.credentials import CredentialProvider, CredentialResolver, Credentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.utils import CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES, SERVICE_NAME_ALIASES
from django.conf import settings

logger = logging.getLogger("voj.aws")

# Every AWS service the application calls while it runs. The Lambda package ships botocore with
# these service models only (deploy/package.py), so a client for any other service fails there:
# add the service here first (tests/voj/test_aws.py checks the code against this list).
RUNTIME_SERVICES = ("cloudfront", "dynamodb", "s3", "secretsmanager", "ssm")

# Host names of AWS's own endpoints (commercial, China, the dual-stack api.aws). Any other S3
# endpoint is an S3-compatible server or an emulator: it has no per-bucket host names.
_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def service_endpoint_variable(service: str) -> str:
    """botocore's own per-service variable, ``AWS_ENDPOINT_URL_<SERVICE ID>`` (e.g.
    ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL_SECRETS_MANAGER``), named as botocore names it."""
    name = SERVICE_NAME_ALIASES.get(service, service)
    service_id = CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES.get(name, name)
    return "AWS_ENDPOINT_URL_" + service_id.replace("-", "_").upper()


def endpoint_url(service: str, shorthand: str | None = None) -> str | None:
    """Where a client for ``service`` sends its requests; None for AWS's regional endpoint.

    In order: botocore's per-service variable (``AWS_ENDPOINT_URL_S3``, ...), so that one
    service can live apart (S3 on SeaweedFS, DynamoDB on DynamoDB Local); then
    ``VOJ_AWS_ENDPOINT_URL`` (``shorthand``), the project's one setting for every service; then
    what botocore itself would configure (``AWS_ENDPOINT_URL``, the shared config file's
    ``services`` section). ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` turns botocore's sources off
    as it does in botocore.
    """
    session = _botocore_session()
    ignore = session.get_config_variable("ignore_configured_endpoint_urls")
    specific = "" if ignore else os.environ.get(service_endpoint_variable(service), "").strip()
    if specific:
        return specific
    if shorthand:
        return shorthand
    if ignore:
        return None
    return ConfiguredEndpointProvider(
        full_config=session.full_config,
        scoped_config=session.get_scoped_config(),
        client_name=service,
    ).provide()


def is_aws_endpoint(url: str | None) -> bool:
    """No endpoint (botocore resolves AWS's) or one on AWS's own domains."""
    if not url:
        return True
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith(_AWS_HOST_SUFFIXES)


def client_config(*, service: str, region: str, path_style: bool = False) -> Any:
    s3_options: dict[str, Any] = {}
    if service == "s3":
        s3_options = {
            # Virtual-hosted, regional S3 URLs on AWS: the global endpoint answers a new bucket
            # outside us-east-1 with a 307 that a browser's CORS form POST cannot follow. Any
            # other endpoint (SeaweedFS, moto, MinIO) has no per-bucket host names: botocore
            # would otherwise put the bucket in front of a host name (bucket.localhost) and
            # uses path style by itself only for IP addresses.
            "s3": {"addressing_style": "path" if path_style else "virtual"},
            # Presigned POSTs and GETs signed with SigV4, the only version newer regions take.
            # Other services keep the signer their model names.
            "signature_version": "s3v4",
        }
    return Config(
        region_name=region,
        # A fixed User-Agent: botocore otherwise rebuilds its telemetry string twice per
        # request, a tenth of a warm stream-url's own time (docs/performance.md).
        user_agent=_user_agent(),
        # Adaptive retries back off on throttling before a caller reports 503.
        retries={"mode": "adaptive", "total_max_attempts": 5},
        # botocore checks every request's parameters against the service model before sending
        # it, walking the whole input, about 4% of a warm stream-url's own time
        # (docs/performance.md). AWS validates them again and answers a mistake with a 400
        # (a ClientError, ValidationException) naming it; voj builds its parameters in code.
        parameter_validation=False,
        connect_timeout=3,
        read_timeout=10,
        **s3_options,
    )


@cache
def _user_agent() -> str:
    return f"voj botocore/{botocore.__version__} Python/{platform.python_version()}"


class RenewableCredentials(Credentials):
    """The session's credentials, the one object every client of the process signs with
    (botocore hands each client the session's): those the rest of botocore's chain resolves,
    resolved again on first use after ``renew()``. A process restored from a SnapStart
    snapshot keeps its clients and signs with its own environment's credentials."""

    def __init__(self, resolve: Callable[[], Credentials | None], current: Credentials) -> None:
        # Credentials.__init__ would assign the attributes this class reads through.
        self._resolve = resolve
        self._current: Credentials | None = current

    def renew(self) -> None:
        self._current = None

    def _credentials(self) -> Credentials:
        if self._current is None:
            self._current = self._resolve()
            if self._current is None:
                raise NoCredentialsError()
        return self._current

    # What botocore reads of a Credentials: the signers get_frozen_credentials(), the
    # endpoint rules the account id, the rest the attributes.
    access_key = property(lambda self: self._credentials().access_key)
    secret_key = property(lambda self: self._credentials().secret_key)
    token = property(lambda self: self._credentials().token)
    account_id = property(lambda self: getattr(self._credentials(), "account_id", None))
    method = property(lambda self: self._credentials().method)

    def get_frozen_credentials(self) -> Any:
        return self._credentials().get_frozen_credentials()


class _RenewableProvider(CredentialProvider):
    """First in the session's chain: wraps what the providers after it resolve in
    RenewableCredentials."""

    METHOD = "voj-renewable"
    CANONICAL_NAME = "customVojRenewable"  # botocore asks outside providers for "custom"

    def __init__(self, resolver: Any) -> None:
        super().__init__()
        self._resolver = resolver
        self.credentials: RenewableCredentials | None = None

    def load(self) -> RenewableCredentials | None:
        rest = CredentialResolver([p for p in self._resolver.providers if p is not self])
        found = rest.load_credentials()
        if found is None:
            return None
        self.credentials = RenewableCredentials(rest.load_credentials, found)
        return self.credentials


@cache
def _botocore_session() -> Any:
    session = botocore.session.get_session()
    resolver = session.get_component("credential_provider")
    resolver.insert_before(resolver.providers[0].METHOD, _RenewableProvider(resolver))
    return session


# Every client built on the process's session, for renew_clients().
_built: weakref.WeakSet[Any] = weakref.WeakSet()


class _Session(boto3.session.Session):
    def client(self, *args: Any, **kwargs: Any) -> Any:
        # boto3's resource() builds its client here too (django-storages' S3 storage).
        built = super().client(*args, **kwargs)
        _built.add(built)
        return built


@cache
def aws_session() -> Any:
    """One session per process: a new one reloads botocore's endpoint and model data (about
    75 ms here), while another client on a warm session costs a few. django-storages' S3
    storage uses it too (streaming/s3.py)."""
    return _Session(botocore_session=_botocore_session())


def client_options(service: str, *, region: str, shorthand: str | None = None) -> dict[str, Any]:
    """The keyword arguments every client of ``service`` is built with (boto3's ``client()``
    and django-storages' S3 storage alike): the resolved endpoint and its config."""
    url = endpoint_url(service, shorthand)
    return {
        "region_name": region,
        "endpoint_url": url,
        "config": client_config(
            service=service, region=region, path_style=not is_aws_endpoint(url)
        ),
    }


def build_client(service: str, *, region: str, endpoint_url: str | None = None) -> Any:
    """A client for ``service``; ``endpoint_url`` is the shorthand for every service, which a
    per-service ``AWS_ENDPOINT_URL_<SERVICE>`` overrides."""
    return aws_session().client(
        service, **client_options(service, region=region, shorthand=endpoint_url)
    )


@cache
def aws_client(service: str) -> Any:
    return build_client(
        service, region=settings.VOJ_AWS_REGION, endpoint_url=settings.VOJ_AWS_ENDPOINT_URL
    )


def reset_clients() -> None:
    """Forget built clients (tests switch endpoints and mocks)."""
    aws_client.cache_clear()
    aws_session.cache_clear()
    _botocore_session.cache_clear()


def renew_clients() -> None:
    """For a process restored from a snapshot (voj/snapstart.py): what the snapshot froze is
    another environment's, the credentials the session resolved and the connections its
    clients pooled. The clients stay, with everything parsed for them (service models,
    endpoint rules, handlers), the same in every environment: rebuilding them was most of a
    restored container's first request (docs/performance.md). The credentials they share are
    resolved again through botocore's chain on their next use (a SnapStart function's
    container credentials), and their pools emptied, so the first request opens its own
    connection."""
    provider = _botocore_session().get_component("credential_provider")
    renewable = provider.get_provider(_RenewableProvider.METHOD).credentials
    if renewable is not None:
        renewable.renew()
    for client in list(_built):
        client.close()  # botocore's own: empties the pools; the client still works


class _LocalAnswer(io.BytesIO):
    """A body botocore reads as it reads the wire's (its ``stream()``)."""

    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


def operations_primed(client: Any, operations: dict[str, dict[str, Any]]) -> None:
    """Call each of ``client``'s ``operations`` (name: parameters) once, answered in the
    process with an empty success at botocore's ``before-send`` event: nothing is sent.
    botocore builds on an operation's first call what its later calls reuse (the model's shapes,
    the endpoint rules' answer, the event handlers' lookup), about 2 ms each here, which the
    first requests of a process restored from a snapshot would otherwise pay
    (voj/snapstart.py). A call that fails is only logged: the operation is built on first use."""
    empty = b"{}" if client.meta.service_model.protocol.startswith("json") else b""

    def answered(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {}, _LocalAnswer(empty))

    client.meta.events.register_first("before-send", answered, unique_id="voj-prime")
    try:
        for name, parameters in operations.items():
            try:
                getattr(client, name)(**parameters)
            except (BotoCoreError, ClientError) as error:
                logger.warning("%s not primed: %s", name, error)
    finally:
        client.meta.events.unregister("before-send", unique_id="voj-prime")
