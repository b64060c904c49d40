import pytest

pytestmark = pytest.mark.django_db


def test_health(anonymous):
    response = anonymous.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_detailed_health(anonymous, settings):
    response = anonymous.get("/api/v1/health/detailed")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["environment"] == "test"
    assert body["encoding_enabled"] is False
    assert {body["checks"][name]["status"] for name in ("database", "repository", "storage")} == {
        "ok"
    }
    assert settings.SECRET_KEY not in response.content.decode()


def test_detailed_health_reports_a_failing_component(anonymous, settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    settings.VOJ_MEDIA_ROOT = blocker / "objects"
    response = anonymous.get("/api/v1/health/detailed")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["storage"]["status"] == "error"
    assert str(tmp_path) not in response.content.decode()


def test_detailed_health_on_dynamodb(anonymous, dynamodb_tables):
    body = anonymous.get("/api/v1/health/detailed").json()
    assert body["checks"]["repository"] == {"status": "ok"}
    assert body["checks"]["backends"]["data"] == "dynamodb"


def test_detailed_health_when_tables_are_missing(anonymous, aws, settings):
    settings.VOJ_DATA_BACKEND = "dynamodb"
    response = anonymous.get("/api/v1/health/detailed")
    assert response.status_code == 503
    assert response.json()["checks"]["repository"]["status"] == "error"


def test_schema_and_docs(anonymous):
    schema = anonymous.get("/api/v1/schema")
    assert schema.status_code == 200
    assert b"/api/v1/books/{book_id}/chapters" in schema.content
    assert anonymous.get("/api/v1/docs").status_code == 200


def test_unknown_api_path_is_json(anonymous):
    response = anonymous.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
