"""The embedded default's upload endpoint: it enforces the signed policy as S3 would."""

from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIRequest
from rest_framework.test import APIClient

from streaming.local_store import upload_conditions
from streaming.policy import policy_encode
from streaming.stores import get_object_store
from streaming.views import upload_receive
from tests.conftest import fixture_bytes
from tests.helpers import book_create, chapter_create

pytestmark = pytest.mark.django_db
M4A = fixture_bytes("tone-faststart.m4a")


@pytest.fixture
def grant(as_editor):
    return chapter_create(as_editor, book_create(as_editor), size=len(M4A))["upload"]


def post(grant, *, fields=None, content=M4A, content_type=None, drop=()):
    data = {**grant["fields"], **(fields or {})}
    for name in drop:
        data.pop(name, None)
    if content is not None:
        data["file"] = SimpleUploadedFile(
            "x.m4a", content, content_type or grant["fields"]["Content-Type"]
        )
    return APIClient().post(grant["url"], data, format="multipart")


def stored(grant) -> bool:
    return get_object_store().head(grant["fields"]["key"]) is not None


def test_upload_through_the_grant(grant):
    response = post(grant)
    assert response.status_code == 204
    info = get_object_store().head(grant["fields"]["key"])
    assert info.size == len(M4A)
    assert info.content_type == "audio/mp4"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"fields": {"x-voj-signature": "forged"}}, 403, "SignatureDoesNotMatch"),
        ({"fields": {"key": "uploads/other/key/abcdef"}}, 403, "AccessDenied"),
        ({"fields": {"key": "../../../etc/passwd"}}, 403, "AccessDenied"),
        ({"fields": {"Content-Type": "audio/mpeg"}}, 403, "AccessDenied"),
        ({"fields": {"acl": "public-read"}}, 403, "AccessDenied"),
        ({"drop": ["policy"]}, 403, "AccessDenied"),
        ({"content": b""}, 400, "EntityTooSmall"),
        ({"content": None}, 400, "InvalidArgument"),
    ],
)
def test_rejected_uploads_store_nothing(grant, change, status, code):
    response = post(grant, **change)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not stored(grant)


def test_tampered_policy_is_rejected(grant):
    import base64
    import json

    document = json.loads(base64.b64decode(grant["fields"]["policy"]))
    document["conditions"][2][2] = 10**12
    forged = base64.b64encode(json.dumps(document).encode()).decode()
    response = post(grant, fields={"policy": forged})
    assert response.status_code == 403
    assert response.json()["code"] == "SignatureDoesNotMatch"


def test_expired_grant(grant):
    key = grant["fields"]["key"]
    policy, signature = policy_encode(
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
        conditions=upload_conditions(key, "audio/mp4"),
    )
    response = post(grant, fields={"policy": policy, "x-voj-signature": signature})
    assert response.status_code == 403
    assert "expired" in response.json()["detail"]
    assert not stored(grant)


def test_over_the_limit(grant, settings):
    settings.VOJ_MAX_UPLOAD_BYTES = len(M4A) - 1
    key = grant["fields"]["key"]
    policy, signature = policy_encode(
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
        conditions=upload_conditions(key, "audio/mp4"),
    )
    response = post(grant, fields={"policy": policy, "x-voj-signature": signature})
    assert response.status_code == 400
    assert response.json()["code"] == "EntityTooLarge"
    assert not stored(grant)


def test_not_multipart(grant):
    response = APIClient().post(grant["url"], {"key": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidRequest"


def test_get_is_not_allowed(grant):
    assert APIClient().get(grant["url"]).status_code == 405


def _multipart_on_disk(path, fields: dict, file_size: int) -> int:
    boundary = "vojboundary"
    with path.open("wb") as body:
        for name, value in fields.items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.m4a"'
            f"\r\nContent-Type: audio/mp4\r\n\r\n".encode()
        )
        chunk = b"\0" * (1024 * 1024)
        remaining = file_size
        while remaining:
            body.write(chunk[: min(len(chunk), remaining)])
            remaining -= min(len(chunk), remaining)
        body.write(f"\r\n--{boundary}--\r\n".encode())
    return boundary


def upload_request(stream, *, boundary: str, length: int) -> WSGIRequest:
    """A request whose body is read from a stream, as a WSGI server hands it over."""
    return WSGIRequest(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/uploads",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": stream,
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(length),
        }
    )


def _post_from_disk(path, boundary):
    with path.open("rb") as stream:
        request = upload_request(stream, boundary=boundary, length=path.stat().st_size)
        tracemalloc.start()
        try:
            response = upload_receive(request)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return response, peak


MB = 1024 * 1024


@pytest.mark.slow
@pytest.mark.parametrize(("size", "status"), [(100 * MB, 204), (100 * MB + 1, 400)])
def test_100_mb_streams_in_constant_memory(as_editor, tmp_path, size, status):
    upload = chapter_create(as_editor, book_create(as_editor), size=100 * 1024 * 1024)["upload"]
    body = tmp_path / "body"
    boundary = _multipart_on_disk(body, upload["fields"], size)
    response, peak = _post_from_disk(body, boundary)
    assert response.status_code == status, response.content
    assert peak < 8 * 1024 * 1024, f"peak Python memory {peak} bytes"
    info = get_object_store().head(upload["fields"]["key"])
    assert (info.size if info else None) == (size if status == 204 else None)


def test_declared_length_far_over_the_limit_is_refused_unread(grant):
    request = upload_request(io.BytesIO(b""), boundary="x", length=500 * 1024 * 1024)
    response = upload_receive(request)
    assert response.status_code == 400
