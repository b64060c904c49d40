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


def test_detailed_health_runs_its_checks_once_in_a_window(anonymous, settings):
    """A public endpoint: however often it is called, a container runs one round of checks per
    VOJ_HEALTH_CHECK_SECONDS and answers the others from it, failures included."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.VOJ_HEALTH_CHECK_SECONDS = 0
    with CaptureQueriesContext(connection) as first_round:
        first = anonymous.get("/api/v1/health/detailed")
    settings.VOJ_HEALTH_CHECK_SECONDS = 3600
    with CaptureQueriesContext(connection) as later:
        answers = [anonymous.get("/api/v1/health/detailed") for _ in range(20)]
    assert first.status_code == 200 and len(first_round) >= 1
    assert len(later) == 0
    assert {a.json()["checked_at"] for a in answers} == {first.json()["checked_at"]}
    settings.VOJ_HEALTH_CHECK_SECONDS = 0
    fresh = anonymous.get("/api/v1/health/detailed").json()
    assert fresh["checked_at"] > first.json()["checked_at"]


def test_detailed_health_names_the_migration_a_deploy_skipped(anonymous):
    """Code one migration ahead of its operator database (a release whose migrate step did not
    run): 503, and the check names what is missing."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from voj.migration_state import pending_migrations

    assert pending_migrations() == []
    last = MigrationRecorder(connection).migration_qs.filter(app="voj").order_by("-name").first()
    last.delete()  # the database as the previous release left it
    response = anonymous.get("/api/v1/health/detailed")
    assert response.status_code == 503
    body = response.json()
    check = body["checks"]["migrations"]
    assert body["status"] == "error" and check["status"] == "error"
    assert check["pending"] == [f"voj.{last.name}"]
    assert f"voj.{last.name}" in check["cause"] and "python -m deploy migrate" in check["cause"]
    assert body["checks"]["database"] == {"status": "ok"}
