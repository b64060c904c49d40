"""The whole editor-to-listener flow through the public HTTP API, on both backends."""

from urllib.parse import parse_qs, urlsplit

from rest_framework.test import APIClient

from tests.conftest import fixture_bytes


def test_login_to_ranged_playback(backend, editor, listener):
    client = APIClient()
    content = fixture_bytes("tone-faststart.m4a")

    login = client.post(
        "/api/v1/auth/login", {"username": "editor", "password": "pw-editor-1"}, format="json"
    )
    assert login.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    book = client.post(
        "/api/v1/books", {"title": "The Flow", "author": "Test"}, format="json"
    ).json()
    created = client.post(
        f"/api/v1/books/{book['id']}/chapters",
        {
            "title": "One",
            "filename": "one.m4a",
            "content_type": "audio/mp4",
            "size_bytes": len(content),
        },
        format="json",
    )
    assert created.status_code == 201
    chapter, grant = created.json()["chapter"], created.json()["upload"]

    form = dict(grant["fields"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    form["file"] = SimpleUploadedFile("one.m4a", content, "audio/mp4")
    assert APIClient().post(grant["url"], form, format="multipart").status_code == 204

    done = client.post(f"/api/v1/books/{book['id']}/chapters/{chapter['id']}/complete")
    assert done.json()["status"] == "ready"
    published = client.post(f"/api/v1/books/{book['id']}/publish")
    assert published.json()["status"] == "published"

    listener_client = APIClient()
    token = listener_client.post(
        "/api/v1/auth/login",
        {"username": "listener", "password": "pw-listener-1"},
        format="json",
    ).json()["access"]
    listener_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    link = listener_client.get(f"/api/v1/audio/{chapter['id']}/stream-url").json()

    url = urlsplit(link["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    response = APIClient().get(url.path, query, HTTP_RANGE="bytes=0-127")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-127/{len(content)}"
    assert b"".join(response.streaming_content) == content[:128]
