"""The production path on moto and on SeaweedFS: S3 uploads, range-only completion, signed
playback. moto checks no signature, policy or expiry; SeaweedFS, a real S3 server, does, so the
refusals S3 itself must make are asserted on it (below)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from streaming.stores import get_object_store
from tests.conftest import fixture_bytes
from tests.helpers import book_create, book_publish, chapter_create, chapter_url
from tests.streaming.cloudfront import cloudfront_url_valid, key_pair
from voj.aws import aws_client, aws_session

M4A = fixture_bytes("tone-faststart.m4a")
BUCKET = "voj-audiobooks-test"
ON_SEAWEEDFS = pytest.mark.parametrize("s3_substrate", ["seaweedfs"], indirect=True)


@pytest.fixture
def s3(s3_substrate, settings):
    settings.VOJ_STORAGE = "s3"
    settings.VOJ_MEDIA_BUCKET = BUCKET
    aws_client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    # As the stack configures it: objects are encrypted by the bucket's default, the
    # application asks for no encryption itself.
    aws_client("s3").put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return aws_client("s3")


@pytest.fixture
def production_path(s3, dynamodb_tables, db):
    """DynamoDB + S3, as in production; only moto stands in for AWS."""
    return s3


class S3Calls:
    """Records the S3 operations the application sends (through botocore's event system)."""

    def __init__(self, client):
        self.calls: list[tuple[str, dict]] = []
        client.meta.events.register("before-send.s3.*", self._record)

    def _record(self, request, event_name, **kwargs):
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        self.calls.append((event_name.rsplit(".", 1)[-1], headers))

    def named(self, name):
        return [headers for op, headers in self.calls if op == name]


def post_form(grant: dict, content: bytes, content_type: str | None = None):
    fields = dict(grant["fields"])
    if content_type:
        fields["Content-Type"] = content_type
    return requests.post(
        grant["url"],
        data=fields,
        files={"file": ("x.m4a", content, fields["Content-Type"])},
        timeout=10,
    )


def created_chapter(api, size=len(M4A)):
    return chapter_create(api, book_create(api), size=size)


def bucket_url(s3_substrate) -> str:
    """Where grants and presigned GETs point: on AWS (moto) the regional virtual-hosted
    endpoint, no 307 from the global one for a browser to choke on; on any other S3 server,
    path style."""
    if s3_substrate == "seaweedfs":
        return os.environ["AWS_ENDPOINT_URL_S3"] + f"/{BUCKET}"
    return f"https://{BUCKET}.s3.ap-northeast-2.amazonaws.com"


def test_grant_is_a_presigned_post_with_the_right_policy(production_path, as_editor, s3_substrate):
    body = created_chapter(as_editor)
    grant, chapter = body["upload"], body["chapter"]
    assert grant["method"] == "POST"
    assert grant["url"].rstrip("/") == bucket_url(s3_substrate)
    key = grant["fields"]["key"]
    assert key.startswith(f"uploads/{chapter['book_id']}/{chapter['id']}/")
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": BUCKET} in conditions
    assert {"key": key} in conditions
    assert {"Content-Type": "audio/mp4"} in conditions
    assert ["content-length-range", 1, 100 * 1024 * 1024] in conditions
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((expiration - datetime.now(UTC)).total_seconds() - 15 * 60) < 10
    assert grant["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"


def test_upload_complete_and_stream(production_path, as_editor, as_listener, s3_substrate):
    calls = S3Calls(aws_client("s3"))
    body = created_chapter(as_editor)
    assert post_form(body["upload"], M4A).status_code == 204
    done = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
    assert done["status"] == "ready", done
    assert done["duration_seconds"] == pytest.approx(2.046, abs=0.01)
    media = f"media/books/{done['book_id']}/chapters/{done['id']}-"
    keys = [o["Key"] for o in production_path.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith(media) and keys[0].endswith(".m4a")
    head = production_path.head_object(Bucket=BUCKET, Key=keys[0])
    assert head["ContentType"] == "audio/mp4"
    assert head["ServerSideEncryption"] == "AES256"  # the bucket's default
    # ... with no encryption header of the application's own (see streaming/s3.py).
    assert not any("x-amz-server-side-encryption" in h for _, h in calls.calls)
    # Completion read ranges only, never the whole object.
    gets = calls.named("GetObject")
    assert gets and all(h.get("Range", "").startswith("bytes=") for h in gets)
    assert len(calls.named("CopyObject")) == 1
    assert len(calls.named("HeadObject")) == 1  # the size is read once and handed on

    again = as_editor.post(chapter_url(body["chapter"]) + "/complete")
    assert again.json() == done
    assert len(calls.named("CopyObject")) == 1  # a retried complete copies nothing

    book_publish(as_editor, done["book_id"])
    link = as_listener.get(f"/api/v1/audio/{done['id']}/stream-url").json()
    url = urlsplit(link["url"])
    assert link["url"].startswith(bucket_url(s3_substrate) + "/media/")
    assert "X-Amz-Signature" in parse_qs(url.query)
    ranged = requests.get(link["url"], headers={"Range": "bytes=0-127"}, timeout=10)
    assert ranged.status_code == 206
    assert ranged.content == M4A[:128]
    # django-storages signed it with a client on the process's one boto3 session (a session of
    # its own would reload botocore's data on the first link of each container).
    signer = get_object_store().storage.connection.meta.client
    assert signer._loader is aws_session()._loader
    assert signer.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 5}


def test_completion_reads_little_of_a_large_object(production_path, as_editor):
    padding_box = (8 + 5_000_000).to_bytes(4, "big") + b"free" + b"\0" * 5_000_000
    big = M4A + padding_box
    body = created_chapter(as_editor, size=len(big))
    assert post_form(body["upload"], big).status_code == 204
    calls = S3Calls(aws_client("s3"))
    done = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
    assert done["status"] == "ready"
    ranges = [h["Range"] for h in calls.named("GetObject")]
    fetched = sum(int(r.split("-")[1]) - int(r.split("=")[1].split("-")[0]) + 1 for r in ranges)
    assert fetched <= 256 * 1024, ranges


@pytest.mark.parametrize(
    ("content", "content_type", "declared", "reason"),
    [
        (M4A, "text/plain", len(M4A), "content type mismatch"),
        (M4A, None, len(M4A) - 1, "size mismatch"),
        (b"plain text, renamed" * 50, None, None, "ftyp"),
        (M4A[:-100], None, None, "truncated"),
    ],
)
def test_bad_uploads_fail_and_are_removed(
    production_path, as_editor, s3_substrate, content, content_type, declared, reason
):
    # moto accepts any presigned POST (no size range, type, signature or expiry checks), so
    # completion is where these are caught. A real S3 server refuses a changed Content-Type
    # at upload; a declared size that differs from the file's is for completion to catch.
    body = created_chapter(as_editor, size=declared or len(content))
    response = post_form(body["upload"], content, content_type)
    if content_type and s3_substrate == "seaweedfs":
        assert response.status_code == 403
        assert "Policy Condition failed" in response.text
        assert production_path.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
        return
    assert response.status_code == 204
    done = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
    assert done["status"] == "failed"
    assert reason in done["failure_reason"]
    assert production_path.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_complete_without_upload(production_path, as_editor):
    body = created_chapter(as_editor)
    response = as_editor.post(chapter_url(body["chapter"]) + "/complete")
    assert response.status_code == 409
    assert response.json()["code"] == "upload_missing"


def test_object_deleted_before_complete(production_path, as_editor):
    body = created_chapter(as_editor)
    post_form(body["upload"], M4A)
    production_path.delete_object(Bucket=BUCKET, Key=body["upload"]["fields"]["key"])
    response = as_editor.post(chapter_url(body["chapter"]) + "/complete")
    assert response.status_code == 409
    assert as_editor.get(chapter_url(body["chapter"])).json()["status"] == "pending_upload"


@pytest.fixture
def cdn(settings):
    private_pem, public_pem = key_pair()
    settings.VOJ_CDN_DOMAIN = "cdn.voj.test"
    settings.VOJ_CDN_KEY_ID = "K2JCJMDEHXQW5F"
    settings.VOJ_CDN_PRIVATE_KEY = private_pem
    return public_pem


def published(api):
    """A ready chapter in a published book: what a listener may stream."""
    body = created_chapter(api)
    post_form(body["upload"], M4A)
    chapter = api.post(chapter_url(body["chapter"]) + "/complete").json()
    book_publish(api, chapter["book_id"])
    return chapter


def test_cloudfront_signed_url(production_path, cdn, as_editor, as_listener, settings):
    chapter = published(as_editor)
    link = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url").json()
    url = urlsplit(link["url"])
    assert url.scheme == "https" and url.netloc == "cdn.voj.test"
    assert url.path.startswith(f"/media/books/{chapter['book_id']}/chapters/")
    query = parse_qs(url.query)
    assert query["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    expires = int(query["Expires"][0])
    assert abs(expires - datetime.fromisoformat(link["expires_at"]).timestamp()) <= 2
    # Lifetime: the chapter's duration (3 s, rounded up) + the 30 min margin.
    lifetime = expires - datetime.now(UTC).timestamp()
    assert 3 + 30 * 60 - 5 <= lifetime <= 3 + 30 * 60 + 1
    assert cloudfront_url_valid(link["url"], cdn, "K2JCJMDEHXQW5F")

    last = chapter["id"][-1]
    tampered_path = link["url"].replace(
        chapter["id"], chapter["id"][:-1] + ("1" if last == "0" else "0")
    )
    assert tampered_path != link["url"]
    assert not cloudfront_url_valid(tampered_path, cdn, "K2JCJMDEHXQW5F")
    later = link["url"].replace(f"Expires={expires}", f"Expires={expires + 3600}")
    assert not cloudfront_url_valid(later, cdn, "K2JCJMDEHXQW5F")
    after_expiry = datetime.fromtimestamp(expires + 1, UTC)
    assert not cloudfront_url_valid(link["url"], cdn, "K2JCJMDEHXQW5F", now=after_expiry)
    _, other_public = key_pair()
    assert not cloudfront_url_valid(link["url"], other_public, "K2JCJMDEHXQW5F")


@ON_SEAWEEDFS
def test_stream_urls_play_through_the_local_edge(
    production_path, as_editor, as_listener, settings, seaweedfs_server
):
    """The prod-like mode's CDN: the app signs CloudFront URLs for the local edge (http on
    127.0.0.1), which checks them with the public key and reads the range from SeaweedFS."""
    from deploy.local.edge import LocalEdge, SignedUrlVerifier

    private_pem, public_pem = key_pair()
    client = seaweedfs_server.client()
    edge = LocalEdge(
        verifier=SignedUrlVerifier.from_pem({"KLOCALEDGE01": public_pem}),
        s3_client=lambda: client,
        bucket=BUCKET,
    )
    with edge:
        settings.VOJ_CDN_DOMAIN = edge.domain
        settings.VOJ_CDN_KEY_ID = "KLOCALEDGE01"
        settings.VOJ_CDN_PRIVATE_KEY = private_pem
        settings.VOJ_CDN_URL_PROTOCOL = "http"
        chapter = published(as_editor)
        url = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url").json()["url"]
        assert url.startswith(f"http://{edge.domain}/media/books/{chapter['book_id']}/")
        assert "Key-Pair-Id=KLOCALEDGE01" in url
        ranged = requests.get(url, headers={"Range": "bytes=0-127"}, timeout=10)
        assert (ranged.status_code, ranged.content) == (206, M4A[:128])
        tampered = url.replace(chapter["id"], chapter["id"][:-1] + "x")
        assert requests.get(tampered, timeout=10).status_code == 403


def test_long_chapter_url_outlives_the_chapter(settings):
    from streaming.signing import stream_lifetime_seconds

    assert stream_lifetime_seconds(60) == 60 + 30 * 60
    assert stream_lifetime_seconds(4 * 3600 + 0.2) == 4 * 3600 + 1 + 30 * 60
    assert stream_lifetime_seconds(48 * 3600) == 12 * 3600  # the cap
    settings.VOJ_STREAM_URL_MARGIN_SECONDS = 60
    assert stream_lifetime_seconds(60) == 15 * 60  # the floor
    assert stream_lifetime_seconds(None) == 15 * 60


def test_s3_unreachable_is_503(db, settings, as_editor, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.VOJ_STORAGE = "s3"
    settings.VOJ_AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    body = created_chapter(as_editor)
    response = as_editor.post(chapter_url(body["chapter"]) + "/complete")
    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    health = as_editor.get("/api/v1/health/detailed")
    assert health.status_code == 503
    assert health.json()["checks"]["storage"]["status"] == "error"


def test_local_endpoints_are_closed_in_s3_mode(production_path, as_editor):
    """No grant or URL points at them here; they must not pass audio through Lambda."""
    from rest_framework.test import APIClient

    from streaming.keys import media_key
    from streaming.signing import local_stream_url

    body = created_chapter(as_editor)
    response = APIClient().post(
        "/api/v1/uploads", {**body["upload"]["fields"], "file": M4A}, format="multipart"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert production_path.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    key = media_key(body["chapter"]["book_id"], body["chapter"]["id"], "abcdef12")
    url = local_stream_url(
        key=key, expires_at=datetime.now(UTC) + timedelta(minutes=5), base_url="http://testserver"
    )
    stream = APIClient().get(urlsplit(url).path, dict(parse_qs(urlsplit(url).query)))
    assert stream.status_code == 404


def test_s3_on_its_own_named_endpoint(
    db, settings, monkeypatch, moto_server, as_editor, as_listener
):
    """S3 apart from every other service, through botocore's per-service variable and a host
    name (not an IP): grants, completion, django-storages' presigned GET and the Range read all
    go to that server, path-style."""
    from tests.conftest import AWS_TEST_ENV

    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    named = moto_server.replace("127.0.0.1", "localhost")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", named)
    settings.VOJ_STORAGE = "s3"
    settings.VOJ_MEDIA_BUCKET = bucket = f"voj-named-{uuid.uuid4().hex[:12]}"
    settings.VOJ_AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # the rest: nothing listens there
    aws_client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    body = created_chapter(as_editor)
    assert body["upload"]["url"] == f"{named}/{bucket}"
    assert post_form(body["upload"], M4A).status_code == 204
    done = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
    assert done["status"] == "ready", done
    book_publish(as_editor, done["book_id"])
    link = as_listener.get(f"/api/v1/audio/{done['id']}/stream-url").json()
    assert link["url"].startswith(f"{named}/{bucket}/media/books/")
    ranged = requests.get(link["url"], headers={"Range": "bytes=0-127"}, timeout=10)
    assert (ranged.status_code, ranged.content) == (206, M4A[:128])


# --- What the S3 server itself refuses -------------------------------------------------------
# moto accepts any form POST and any presigned GET; these run on SeaweedFS, a real S3 server
# that checks SigV4, POST policies and expiry as AWS does.

# Found by testing SeaweedFS 4.48: AWS refuses any form field the policy does not name (except
# x-ignore-*); SeaweedFS refuses only unnamed x-amz-* fields and accepts acl, Cache-Control,
# Content-Disposition, Content-Encoding, Expires, tagging and success_action_* unchecked. The
# object still stays private (an anonymous GET is refused), and on AWS these are refused.
SEAWEEDFS_EXTRA_FIELDS = "SeaweedFS 4.48 checks only x-amz-* fields against the policy"
MAX_UPLOAD = 100 * 1024 * 1024


class MultipartStream:
    """A form POST body of ``fields`` and a file of ``size`` zero bytes, produced as it is
    sent (a 100 MB upload in constant memory), with its length known up front."""

    def __init__(self, fields: dict, size: int, content_type: str) -> None:
        self.boundary = "voj" + uuid.uuid4().hex
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
            for name, value in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.m4a"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(head) + size + len(tail)
        self._parts: list[bytes | int] = [head, size, tail]

    def __len__(self) -> int:
        return self.length

    def read(self, n: int = -1) -> bytes:
        while self._parts:
            part = self._parts[0]
            if isinstance(part, int):
                take = min(part, n if n > 0 else 1 << 20)
                self._parts[0] = part - take
                if take:
                    return bytes(take)
            else:
                take = len(part) if n < 0 else n
                self._parts[0] = part[take:]
                if part[:take]:
                    return part[:take]
            self._parts.pop(0)
        return b""

    def post(self, url: str) -> tuple[int, str]:
        # Straight through http.client: moto's mock of requests would buffer the body.
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        try:
            connection.request(
                "POST",
                parts.path or "/",
                body=self,
                headers={
                    "Content-Type": f"multipart/form-data; boundary={self.boundary}",
                    "Content-Length": str(self.length),
                },
            )
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()


def refused(response: requests.Response | tuple[int, str], status: int, code: str) -> str:
    got, text = response if isinstance(response, tuple) else (response.status_code, response.text)
    assert got == status, text
    assert f"<Code>{code}</Code>" in text, text
    return text


def nothing_stored(client) -> bool:
    return client.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


@ON_SEAWEEDFS
@pytest.mark.slow
def test_s3_refuses_a_file_over_100_mb(production_path, as_editor):
    grant = created_chapter(as_editor, size=MAX_UPLOAD)["upload"]
    body = MultipartStream(grant["fields"], MAX_UPLOAD + 1, "audio/mp4")
    refused(body.post(grant["url"]), 400, "EntityTooLarge")
    assert nothing_stored(production_path)


@ON_SEAWEEDFS
@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"Content-Type": "video/mp4"}, "AccessDenied", "Policy Condition failed"),
        ({"key": "media/books/x/chapters/y-hijack.m4a"}, "AccessDenied", "Policy Condition failed"),
        ({"x-amz-meta-owner": "attacker"}, "AccessDenied", "Extra input fields"),
        ({"x-amz-signature": "0" * 64}, "SignatureDoesNotMatch", ""),
        pytest.param(
            {"acl": "public-read"},
            "AccessDenied",
            "Extra input fields",
            marks=pytest.mark.xfail(strict=True, reason=SEAWEEDFS_EXTRA_FIELDS),
        ),
        pytest.param(
            {"Content-Disposition": "attachment; filename=other.exe"},
            "AccessDenied",
            "Extra input fields",
            marks=pytest.mark.xfail(strict=True, reason=SEAWEEDFS_EXTRA_FIELDS),
        ),
    ],
    ids=[
        "content-type",
        "other-key",
        "extra-amz-field",
        "signature",
        "extra-acl-field",
        "extra-header-field",
    ],
)
def test_s3_refuses_a_form_that_breaks_the_grant(production_path, as_editor, change, code, message):
    grant = created_chapter(as_editor)["upload"]
    fields = {**grant["fields"], **change}
    response = requests.post(
        grant["url"],
        data=fields,
        files={"file": ("x.m4a", M4A, fields["Content-Type"])},
        timeout=10,
    )
    assert message in refused(response, 403, code)
    assert nothing_stored(production_path)
    # The grant itself was good: the same form, unchanged, is accepted.
    assert post_form(grant, M4A).status_code == 204


@ON_SEAWEEDFS
@pytest.mark.parametrize("edit", ["wider-size-range", "other-key", "later-expiry"])
def test_s3_refuses_an_edited_policy(production_path, as_editor, edit):
    grant = created_chapter(as_editor)["upload"]
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    if edit == "wider-size-range":
        policy["conditions"] = [
            ["content-length-range", 1, 10 * MAX_UPLOAD] if isinstance(c, list) else c
            for c in policy["conditions"]
        ]
    elif edit == "other-key":
        policy["conditions"] = [
            {"key": "uploads/elsewhere.m4a"} if "key" in c else c for c in policy["conditions"]
        ]
    else:
        policy["expiration"] = "2099-01-01T00:00:00Z"
    fields = {**grant["fields"], "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    if edit == "other-key":
        fields["key"] = "uploads/elsewhere.m4a"
    response = requests.post(
        grant["url"], data=fields, files={"file": ("x.m4a", M4A, "audio/mp4")}, timeout=10
    )
    refused(response, 403, "SignatureDoesNotMatch")
    assert nothing_stored(production_path)


@ON_SEAWEEDFS
def test_s3_refuses_an_expired_grant(production_path, as_editor, settings):
    settings.VOJ_UPLOAD_GRANT_SECONDS = 1
    grant = created_chapter(as_editor)["upload"]
    time.sleep(2.1)
    assert "Policy expired" in refused(post_form(grant, M4A), 403, "AccessDenied")
    assert nothing_stored(production_path)


@ON_SEAWEEDFS
def test_s3_refuses_a_tampered_or_expired_stream_url(
    production_path, as_editor, as_listener, settings
):
    chapter = published(as_editor)
    other = published(as_editor)
    link = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url").json()["url"]
    assert requests.get(link, headers={"Range": "bytes=0-15"}, timeout=10).status_code == 206

    other_key = urlsplit(
        as_listener.get(f"/api/v1/audio/{other['id']}/stream-url").json()["url"]
    ).path
    query = parse_qs(urlsplit(link).query)
    signature = query["X-Amz-Signature"][0]
    forged = {
        "other-object": link.replace(urlsplit(link).path, other_key),
        "signature": link.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:]),
        "longer-expiry": link.replace(
            f"X-Amz-Expires={query['X-Amz-Expires'][0]}", "X-Amz-Expires=604800"
        ),
        "unsigned": link.split("?")[0],
    }
    for name, url in forged.items():
        assert url != link, name
        response = requests.get(url, headers={"Range": "bytes=0-15"}, timeout=10)
        assert response.status_code == 403, (name, response.status_code)
        assert M4A[:16] not in response.content

    # Expiry: the shortest stream URL the settings allow, used after it ran out.
    settings.VOJ_STREAM_URL_MARGIN_SECONDS = 0
    settings.VOJ_STREAM_URL_MIN_SECONDS = 1
    short = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url").json()
    assert requests.get(short["url"], timeout=10).status_code == 200
    time.sleep(max(0, datetime.fromisoformat(short["expires_at"]).timestamp() - time.time()) + 1.1)
    assert "Request has expired" in refused(
        requests.get(short["url"], timeout=10), 403, "AccessDenied"
    )


@ON_SEAWEEDFS
def test_s3_refuses_requests_signed_with_another_key(production_path, seaweedfs_server):
    stranger = seaweedfs_server.client(secret_key="not-the-secret")
    with pytest.raises(ClientError) as refusal:
        stranger.list_objects_v2(Bucket=BUCKET)
    assert refusal.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert requests.get(f"{seaweedfs_server.endpoint}/{BUCKET}", timeout=10).status_code == 403


def test_published_objects_are_encrypted_at_rest(production_path, as_editor):
    chapter = published(as_editor)
    [key] = [o["Key"] for o in production_path.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert key.startswith(f"media/books/{chapter['book_id']}/")
    assert production_path.head_object(Bucket=BUCKET, Key=key)["ServerSideEncryption"] == "AES256"


class Swap:
    """Re-uploads other bytes through the chapter's still-valid grant at one S3 call of the
    application's (botocore's before-call event): the race of a second upload during
    completion, made certain."""

    def __init__(self, grant: dict, content: bytes, *, operation: str, at_call: int = 1) -> None:
        self.grant, self.content, self.at_call, self.seen = grant, content, at_call, 0
        aws_client("s3").meta.events.register(f"before-call.s3.{operation}", self)

    def __call__(self, **kwargs) -> None:
        self.seen += 1
        if self.seen == self.at_call:
            assert post_form(self.grant, self.content).status_code == 204


SWAPPED_IN = fixture_bytes("tone-moov-at-end.m4a")  # other audio, valid and of another size
JUNK = b"\0" * len(M4A)  # not audio, and of the declared size


@pytest.mark.parametrize(
    ("original", "operation", "at_call", "content"),
    [
        (M4A, "CopyObject", 1, SWAPPED_IN),
        (M4A, "CopyObject", 1, JUNK),
        (M4A, "GetObject", 1, JUNK),
        (M4A, "GetObject", 1, SWAPPED_IN),
    ],
    ids=["before-copy-audio", "before-copy-junk", "before-read-junk", "before-read-audio"],
)
def test_an_upload_replaced_during_completion_is_never_published(
    production_path, as_editor, as_listener, original, operation, at_call, content
):
    body = created_chapter(as_editor, size=len(original))
    assert post_form(body["upload"], original).status_code == 204
    swap = Swap(body["upload"], content, operation=operation, at_call=at_call)
    done = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
    assert swap.seen >= at_call
    assert done["status"] == "failed", done
    assert done["failure_reason"] == (
        "the upload changed while it was being checked; upload it again"
    )
    # Nothing was published, and the swapped upload is gone.
    assert production_path.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    # Not ready: a 409 to its owner, and to a listener as if it did not exist.
    assert as_editor.get(f"/api/v1/audio/{done['id']}/stream-url").status_code == 409
    assert as_listener.get(f"/api/v1/audio/{done['id']}/stream-url").status_code == 404
    # The editor uploads again with a fresh grant.
    renewed = as_editor.post(
        chapter_url(body["chapter"]) + "/upload",
        {"filename": "chapter.m4a", "content_type": "audio/mp4", "size_bytes": len(M4A)},
    )
    assert renewed.status_code == 200, renewed.content
    assert post_form(renewed.json()["upload"], M4A).status_code == 204
    again = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
    assert again["status"] == "ready"


def test_the_published_object_is_the_checked_one(production_path, as_editor):
    body = created_chapter(as_editor)
    assert post_form(body["upload"], M4A).status_code == 204
    uploaded = production_path.head_object(Bucket=BUCKET, Key=body["upload"]["fields"]["key"])
    calls = S3Calls(aws_client("s3"))
    done = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
    assert done["status"] == "ready"
    # Every range and the copy are conditional on the ETag the HEAD saw.
    gets = calls.named("GetObject")
    assert gets and all(h.get("If-Match") == uploaded["ETag"] for h in gets)
    (copy,) = calls.named("CopyObject")
    assert copy["x-amz-copy-source-if-match"] == uploaded["ETag"]
    from books.repository import get_repository

    chapter = get_repository().chapter_get(done["book_id"], done["id"])
    published = production_path.head_object(Bucket=BUCKET, Key=chapter.object_key)
    assert chapter.object_etag == published["ETag"] == uploaded["ETag"]


def test_a_late_upload_through_the_grant_changes_nothing(
    production_path, as_editor, as_listener, console
):
    """After completion the grant's key is dead: the chapter points at media/, which no grant
    can write, and never reads its upload key again."""
    body = created_chapter(as_editor)
    assert post_form(body["upload"], M4A).status_code == 204
    done = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
    assert post_form(body["upload"], JUNK).status_code == 204  # the grant is still valid
    assert as_editor.post(chapter_url(body["chapter"]) + "/complete").json() == done
    book_publish(as_editor, done["book_id"])
    link = as_listener.get(f"/api/v1/audio/{done['id']}/stream-url").json()
    assert requests.get(link["url"], timeout=10).content == M4A
    verdict = console.post(f"/admin/catalogue/chapters/{done['id']}/check/").context["verdict"]
    assert verdict.ok


def refuse(operation: str, status: int, code: str | None = None):
    """S3 answering ``operation`` with an error, injected at botocore's before-call event (moto
    checks no permissions). A HEAD's error has no body: only its status, as on S3."""
    from botocore.awsrequest import AWSResponse

    error = {"Code": code or str(status), "Message": "refused"}

    def answer(**kwargs):
        return AWSResponse("https://s3.test/", status, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    aws_client("s3").meta.events.register(f"before-call.s3.{operation}", answer)


def test_access_denied_is_a_503_that_names_the_cause(production_path, as_editor, anonymous):
    body = created_chapter(as_editor)
    assert post_form(body["upload"], M4A).status_code == 204
    refuse("HeadObject", 403)
    response = as_editor.post(chapter_url(body["chapter"]) + "/complete")
    assert response.status_code == 503
    assert response.json()["code"] == "storage_misconfigured"
    assert "access denied" in response.json()["detail"]
    assert "bucket policy" in response.json()["detail"]
    # Nothing changed: the chapter still waits for its completion.
    assert as_editor.get(chapter_url(body["chapter"])).json()["status"] == "pending_upload"
    refuse("HeadBucket", 403)
    health = anonymous.get("/api/v1/health/detailed")
    assert health.status_code == 503
    assert health.json()["checks"]["storage"]["error"] == "StorageMisconfigured"
    assert "access denied" in health.json()["checks"]["storage"]["cause"]


@pytest.mark.parametrize(
    ("operation", "status", "code", "named"),
    [
        ("GetObject", 403, "SignatureDoesNotMatch", "secret key"),
        ("GetObject", 404, "NoSuchBucket", "VOJ_MEDIA_BUCKET"),
        ("CopyObject", 403, "InvalidAccessKeyId", "access key"),
        ("CopyObject", 501, "NotImplemented", "S3-compatible store must support"),
    ],
)
def test_store_configuration_errors_are_named(
    production_path, as_editor, operation, status, code, named
):
    body = created_chapter(as_editor)
    assert post_form(body["upload"], M4A).status_code == 204
    refuse(operation, status, code)
    response = as_editor.post(chapter_url(body["chapter"]) + "/complete")
    assert response.status_code == 503
    assert response.json()["code"] == "storage_misconfigured"
    assert named in response.json()["detail"] and code in response.json()["detail"]


def test_a_missing_bucket_is_named_by_the_health_check(production_path, settings, anonymous):
    settings.VOJ_MEDIA_BUCKET = "voj-no-such-bucket"
    health = anonymous.get("/api/v1/health/detailed")
    assert health.status_code == 503
    storage = health.json()["checks"]["storage"]
    assert storage["error"] == "StorageMisconfigured"
    assert "bucket does not exist" in storage["cause"]


def test_a_passing_fault_is_still_unavailable_not_misconfigured(production_path, as_editor):
    body = created_chapter(as_editor)
    assert post_form(body["upload"], M4A).status_code == 204
    refuse("GetObject", 500, "InternalError")
    response = as_editor.post(chapter_url(body["chapter"]) + "/complete")
    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"


def test_the_console_check_names_a_misconfigured_store(production_path, as_editor, console):
    done = published(as_editor)
    refuse("HeadObject", 403)
    for url in (
        f"/admin/catalogue/chapters/{done['id']}/check/",
        f"/admin/catalogue/books/{done['book_id']}/check/",
    ):
        page = console.post(url)
        assert page.status_code == 503
        assert "The media store is misconfigured: access denied" in page.content.decode()


def test_re_uploads_racing_completion_never_publish_unchecked_bytes(
    production_path, as_editor, s3_substrate
):
    """The race itself, not injected at one call: from completion's first HEAD on, another
    client keeps re-uploading other bytes through the same still-valid grant until completion
    answers. Whatever interleaving the server makes, a ready chapter serves exactly the bytes
    that were checked; otherwise nothing is published."""
    other = b"not audio, re-uploaded through the same grant " * 1100  # ~50 KB
    swaps_during_completion = 0
    for _ in range(5):
        body = created_chapter(as_editor)
        grant = body["upload"]
        assert post_form(grant, M4A).status_code == 204
        started, stop = threading.Event(), threading.Event()
        uploads: list[int] = []

        def hammer(grant=grant, started=started, stop=stop, uploads=uploads):
            started.wait(10)
            while not stop.is_set():
                uploads.append(post_form(grant, other).status_code)

        racer = threading.Thread(target=hammer)
        racer.start()
        aws_client("s3").meta.events.register(
            "after-call.s3.HeadObject", lambda started=started, **_: started.set()
        )
        try:
            done = as_editor.post(chapter_url(body["chapter"]) + "/complete").json()
        finally:
            stop.set()
            started.set()
            racer.join(30)
        aws_client("s3").meta.events.unregister("after-call.s3.HeadObject")
        assert set(uploads) <= {204}
        swaps_during_completion += len(uploads)

        prefix = f"media/books/{done['book_id']}/chapters/{done['id']}-"
        published = production_path.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        keys = [o["Key"] for o in published.get("Contents", [])]
        if done["status"] == "ready":
            assert len(keys) == 1
            served = production_path.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
            assert served == M4A, "bytes that were not the checked ones were published"
            assert done["size_bytes"] == len(M4A)
        else:
            assert done["status"] == "failed", done
            assert keys == []
    assert swaps_during_completion > 0, "no re-upload ran while completion did"
