"""A local CloudFront edge for the prod-like mode: signed URLs checked as CloudFront checks them.

`make run-aws` points VOJ_CDN_DOMAIN here, so stream URLs are the production type (CloudFront
signed URLs, made by django-storages with botocore's CloudFrontSigner) and a browser or the smoke
command plays them through this edge. Like a distribution whose cache behaviour restricts viewer
access to a trusted key group, it refuses with 403 any request without a valid signature:

- ``Key-Pair-Id`` must name a public key of the key group;
- a canned policy (``Expires``) or a custom one (``Policy``), not both, not neither;
- ``Signature``: RSA-SHA1 (PKCS #1 v1.5) over the policy, verified with the public key;
- the policy's resource must match the URL requested (without the signing parameters; ``*`` and
  ``?`` are wildcards in a custom policy), ``DateLessThan`` must be in the future,
  ``DateGreaterThan`` (custom) in the past, ``IpAddress`` (custom) must hold the viewer's address.

A valid request is forwarded to the S3 origin as a signed S3 request (CloudFront's origin access
control does the same), with its Range header, and the origin's status (200, 206, 304, 404, 416)
and content headers come back. Covers (``covers/``) are served unsigned, like the distribution's
``covers/*`` behaviour, which trusts no key group. Serves on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from voj.digits import is_ascii_digits

SIGNING_PARAMETERS = ("Expires", "Policy", "Signature", "Key-Pair-Id")
# The path of the distribution's behaviour without a trusted key group (covers), as in edge.yaml.
PUBLIC_PREFIX = "covers/"
CHUNK = 64 * 1024
# What the origin's answer may carry back to the viewer.
FORWARDED_HEADERS = (
    "Accept-Ranges",
    "Cache-Control",
    "Content-Length",
    "Content-Range",
    "Content-Type",
    "ETag",
    "Last-Modified",
)


class Denied(Exception):
    """A request CloudFront would refuse: ``code`` as CloudFront names it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _cf_b64decode(value: str) -> bytes:
    """CloudFront's URL-safe base64: ``-`` for ``+``, ``_`` for ``=``, ``~`` for ``/``."""
    try:
        return base64.b64decode(
            value.replace("-", "+").replace("_", "=").replace("~", "/"), validate=True
        )
    except (binascii.Error, ValueError) as error:
        raise Denied("MalformedSignature", "the signature or policy is not valid base64") from error


def canned_policy(resource: str, expires: int) -> bytes:
    """The policy a canned-policy URL stands for, byte for byte as botocore signs it."""
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":")).encode()


def _resource_matches(pattern: str, resource: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, resource, flags=re.DOTALL) is not None


def _epoch(condition: Mapping[str, Any], name: str) -> int | None:
    value = condition.get(name, {}).get("AWS:EpochTime")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Denied("MalformedPolicy", f"{name} must be an integer epoch time")
    return value


@dataclass(frozen=True)
class SignedUrlVerifier:
    """CloudFront's viewer-side check, for one trusted key group (key id → public key)."""

    public_keys: Mapping[str, rsa.RSAPublicKey]

    @classmethod
    def from_pem(cls, keys: Mapping[str, str]) -> SignedUrlVerifier:
        loaded = {}
        for key_id, pem in keys.items():
            key = serialization.load_pem_public_key(pem.encode())
            if not isinstance(key, rsa.RSAPublicKey):
                raise ValueError(f"{key_id}: CloudFront keys are RSA")
            loaded[key_id] = key
        return cls(public_keys=loaded)

    def verify(
        self,
        *,
        base: str,
        path: str,
        query: str,
        viewer_ip: str,
        now: datetime | None = None,
    ) -> None:
        """Raise Denied unless ``base`` + ``path`` + ``query`` is a valid signed URL now."""
        signing: dict[str, str] = {}
        rest = []
        for segment in query.split("&") if query else []:
            pairs = parse_qsl(segment, keep_blank_values=True)
            name, value = pairs[0] if pairs else (segment, "")
            if name not in SIGNING_PARAMETERS:
                rest.append(segment)  # as sent: the signer signed the URL before appending
            elif name in signing:
                raise Denied("MalformedQuery", f"{name} is given twice")
            else:
                signing[name] = value
        resource = base + path + ("?" + "&".join(rest) if rest else "")

        key_id = signing.get("Key-Pair-Id")
        if not key_id:
            raise Denied("MissingKey", "Missing Key-Pair-Id query parameter or cookie value")
        public_key = self.public_keys.get(key_id)
        if public_key is None:
            raise Denied("InvalidKey", "Unknown Key")
        if "Signature" not in signing:
            raise Denied("MissingSignature", "Missing Signature query parameter")
        signature = _cf_b64decode(signing["Signature"])
        if ("Expires" in signing) == ("Policy" in signing):
            raise Denied("MalformedQuery", "exactly one of Expires and Policy must be given")

        if "Expires" in signing:
            if not is_ascii_digits(signing["Expires"]):
                raise Denied("MalformedQuery", "Expires must be an integer epoch time")
            expires = int(signing["Expires"])
            policy = canned_policy(resource, expires)
        else:
            policy = _cf_b64decode(signing["Policy"])
        try:
            public_key.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 (CloudFront's algorithm)
        except InvalidSignature as error:
            raise Denied("AccessDenied", "Access denied: the signature does not match") from error

        self._check_policy(policy, resource, viewer_ip, now or datetime.now(UTC))

    @staticmethod
    def _check_policy(policy: bytes, resource: str, viewer_ip: str, now: datetime) -> None:
        try:
            statements = json.loads(policy)["Statement"]
            statement = statements[0]
            condition = statement["Condition"]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise Denied("MalformedPolicy", "the policy is not a CloudFront policy") from error
        if len(statements) != 1:
            raise Denied("MalformedPolicy", "a policy has exactly one statement")
        pattern = statement.get("Resource", "*")
        if not isinstance(pattern, str) or not _resource_matches(pattern, resource):
            raise Denied("AccessDenied", "Access denied: the URL is not the signed resource")
        less_than = _epoch(condition, "DateLessThan")
        if less_than is None:
            raise Denied("MalformedPolicy", "DateLessThan is required")
        if now.timestamp() >= less_than:
            raise Denied("AccessDenied", "Access denied: the URL has expired")
        greater_than = _epoch(condition, "DateGreaterThan")
        if greater_than is not None and now.timestamp() <= greater_than:
            raise Denied("AccessDenied", "Access denied: the URL is not valid yet")
        source = condition.get("IpAddress", {}).get("AWS:SourceIp")
        if source is not None:
            try:
                allowed = ipaddress.ip_network(source, strict=False)
            except ValueError as error:
                raise Denied("MalformedPolicy", "AWS:SourceIp is not a network") from error
            if ipaddress.ip_address(viewer_ip) not in allowed:
                raise Denied("AccessDenied", "Access denied: not from the signed address")


def is_public_key(key: str) -> bool:
    """Whether ``key`` is under the unsigned covers/ behaviour (deploy/edge.yaml). A key that
    climbs out of covers/ by a ``..`` segment is not: it is checked like any other."""
    return key.startswith(PUBLIC_PREFIX) and ".." not in key.split("/")


def _error_body(code: str, message: str) -> bytes:
    # CloudFront answers refusals in S3's XML error shape.
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Error>'
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()


class LocalEdge:
    """The edge server: ``start()`` serves in a daemon thread until ``stop()``."""

    def __init__(
        self,
        *,
        verifier: SignedUrlVerifier,
        s3_client: Callable[[], Any],
        bucket: str,
        port: int = 0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.verifier = verifier
        self.s3_client = s3_client
        self.bucket = bucket
        self.now = now or (lambda: datetime.now(UTC))
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def domain(self) -> str:
        """What VOJ_CDN_DOMAIN names: the host the signed URLs point at."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> LocalEdge:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalEdge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        edge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "voj-local-edge"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the app's own log says what was played

            def do_GET(self) -> None:
                edge.serve(self, head=False)

            def do_HEAD(self) -> None:
                edge.serve(self, head=True)

        return Handler

    def serve(self, request: BaseHTTPRequestHandler, *, head: bool) -> None:
        path, _, query = request.path.partition("?")
        key = unquote(path.lstrip("/"))
        if is_public_key(key):
            # The covers/* behaviour: no trusted key group, so nothing to verify.
            self._forward(request, key, head=head)
            return
        host = request.headers.get("Host") or self.domain
        try:
            self.verifier.verify(
                base=f"http://{host}",
                path=path,
                query=query,
                viewer_ip=request.client_address[0],
                now=self.now(),
            )
        except Denied as denied:
            self._send(request, 403, _error_body(denied.code, denied.message), head=head)
            return
        self._forward(request, key, head=head)

    def _forward(self, request: BaseHTTPRequestHandler, key: str, *, head: bool) -> None:
        client = self.s3_client()
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        for header, name in (
            ("Range", "Range"),
            ("If-None-Match", "IfNoneMatch"),
            ("If-Match", "IfMatch"),
        ):
            if request.headers.get(header):
                params[name] = request.headers[header]
        try:
            response = (client.head_object if head else client.get_object)(**params)
        except ClientError as error:
            meta = error.response.get("ResponseMetadata", {})
            status = int(meta.get("HTTPStatusCode", 502))
            code = error.response.get("Error", {}).get("Code", "OriginError")
            if status == 304:
                self._send(request, 304, b"", head=True)
            else:
                self._send(request, status, _error_body(code, "from the origin"), head=head)
            return
        status = response["ResponseMetadata"]["HTTPStatusCode"]
        origin_headers = response["ResponseMetadata"].get("HTTPHeaders", {})
        request.send_response(status)
        for name in FORWARDED_HEADERS:
            value = origin_headers.get(name.lower())
            if value is not None:
                request.send_header(name, value)
        request.send_header("Access-Control-Allow-Origin", "*")
        request.end_headers()
        if head:
            return
        body = response["Body"]
        try:
            for chunk in iter(lambda: body.read(CHUNK), b""):
                request.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the player moved on (a seek sends a new Range request)
        finally:
            body.close()

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, *, head: bool) -> None:
        request.send_response(status)
        if body:
            request.send_header("Content-Type", "application/xml")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if not head:
            request.wfile.write(body)
