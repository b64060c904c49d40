"""Covers on the production path (DynamoDB + S3), on moto and on SeaweedFS: the grant is a
presigned POST S3 enforces (5 MB), completion reads the upload back from S3 and writes the cover
with its caching headers, and the cover URL needs no Authorization."""

from __future__ import annotations

import base64
import io
import json

import pytest
import requests
from PIL import Image

from tests.helpers import book_create
from tests.images import image_bytes, jpeg_with_gps
from tests.streaming.test_s3 import BUCKET, ON_SEAWEEDFS, S3Calls, post_form
from voj.aws import aws_client

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def production_path(s3_substrate, settings, dynamodb_tables, db):
    """DynamoDB + S3 as in production (tests/streaming/test_s3.py's), the bucket encrypted by
    default as the stack makes it; the S3 client."""
    settings.VOJ_STORAGE = "s3"
    settings.VOJ_MEDIA_BUCKET = BUCKET
    client = aws_client("s3")
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    client.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return client


def cover_grant(api, book_id: str, size: int) -> dict:
    response = api.post(
        f"/api/v1/books/{book_id}/cover",
        {"filename": "cover.jpg", "content_type": "image/jpeg", "size_bytes": size},
    )
    assert response.status_code == 201, response.content
    return response.json()["upload"]


def cover_upload(api, book_id: str, content: bytes):
    assert post_form(cover_grant(api, book_id, len(content)), content).status_code == 204
    return api.post(f"/api/v1/books/{book_id}/cover/complete")


def test_the_grant_is_a_presigned_post_of_at_most_5_mb(production_path, as_editor):
    book = book_create(as_editor)
    grant = cover_grant(as_editor, book["id"], 1000)
    key = grant["fields"]["key"]
    assert key.startswith(f"uploads/covers/{book['id']}/")
    conditions = json.loads(base64.b64decode(grant["fields"]["policy"]))["conditions"]
    assert {"key": key} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 5 * 1024 * 1024] in conditions


def test_a_cover_through_s3(production_path, as_editor, as_listener):
    s3 = production_path
    book = book_create(as_editor)
    first = cover_upload(as_editor, book["id"], image_bytes(700, 700))
    assert first.status_code == 200, first.content
    done = cover_upload(as_editor, book["id"], jpeg_with_gps(1200, 800))
    assert done.status_code == 200, done.content
    key = done.json()["cover_url"].split("?")[0].split(f"/{BUCKET}/")[-1].split(".com/")[-1]
    assert key.startswith(f"covers/books/{book['id']}/") and key.endswith(".jpg")
    stored = s3.head_object(Bucket=BUCKET, Key=key)
    assert stored["CacheControl"] == IMMUTABLE
    assert stored["ContentType"] == "image/jpeg"
    # Without a CDN, a presigned GET: a viewer without credentials still gets the image.
    response = requests.get(done.json()["cover_url"], timeout=10)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (400, 600) and not image.getexif()  # turned upright by its EXIF
    # The first cover and both uploads are gone.
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert [item["Key"] for item in listed] == [key]


def test_with_a_cdn_the_cover_url_is_the_cdns_and_unsigned(production_path, as_editor, settings):
    settings.VOJ_CDN_DOMAIN = "d111111abcdef8.cloudfront.net"
    book = book_create(as_editor)
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    prefix = f"https://d111111abcdef8.cloudfront.net/covers/books/{book['id']}/"
    assert url.startswith(prefix) and url.endswith(".jpg") and "?" not in url
    assert as_editor.get("/api/v1/books").json()["results"][0]["cover_url"] == url


def test_a_refused_cover_is_deleted_from_the_bucket(production_path, as_editor):
    book = book_create(as_editor)
    content = b"not an image, named cover.jpg" * 10
    grant = cover_grant(as_editor, book["id"], len(content))
    assert post_form(grant, content).status_code == 204
    response = as_editor.post(f"/api/v1/books/{book['id']}/cover/complete")
    assert (response.status_code, response.json()["code"]) == (400, "cover_not_an_image")
    assert production_path.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


@ON_SEAWEEDFS
def test_s3_itself_refuses_an_upload_over_the_grants_size(production_path, as_editor, settings):
    settings.VOJ_MAX_COVER_BYTES = 2000
    book = book_create(as_editor)
    grant = cover_grant(as_editor, book["id"], 2000)
    response = post_form(grant, b"x" * 2001)
    assert response.status_code == 400
    assert "EntityTooLarge" in response.text
    assert post_form(grant, b"x" * 2000).status_code == 204


@pytest.mark.parametrize("s3_substrate", ["moto"], indirect=True)
def test_completion_reads_the_upload_once(production_path, as_editor):
    """Completion reads the upload from S3 (at most 5 MB) with one HEAD and one GET."""
    book = book_create(as_editor)
    content = image_bytes(400, 400)
    assert post_form(cover_grant(as_editor, book["id"], len(content)), content).status_code == 204
    calls = S3Calls(aws_client("s3"))
    assert as_editor.post(f"/api/v1/books/{book['id']}/cover/complete").status_code == 200
    assert len(calls.named("GetObject")) == 1
    assert len(calls.named("HeadObject")) == 1
    assert len(calls.named("PutObject")) == 1
