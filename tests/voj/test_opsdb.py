"""Two containers on one bucket cannot lose each other's operator-database writes.

Run on moto (5.2 enforces If-Match and If-None-Match: * on PutObject) and on SeaweedFS, a real
S3 server, where the refusal of a stale or duplicate PUT is the server's own.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db.utils import ConnectionHandler

from voj.aws import aws_client
from voj.opsdb.sync import OperatorDatabaseConflict, OperatorDatabaseSync

BUCKET = "voj-opsdb-test"
KEY = "system/operator-db.sqlite3"


@pytest.fixture
def bucket(s3_substrate):
    aws_client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    return aws_client("s3")


def container(tmp_path, name) -> OperatorDatabaseSync:
    return OperatorDatabaseSync(
        client=aws_client("s3"),
        bucket=BUCKET,
        key=KEY,
        path=tmp_path / name / "ops.sqlite3",
        refresh_seconds=0,
    )


def write(sync: OperatorDatabaseSync, value: str) -> None:
    sync.path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(sync.path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS t (v TEXT)")
        db.execute("INSERT INTO t VALUES (?)", (value,))
    db.close()


def rows(sync: OperatorDatabaseSync) -> list[str]:
    db = sqlite3.connect(sync.path)
    try:
        return sorted(v for (v,) in db.execute("SELECT v FROM t"))
    finally:
        db.close()


def test_a_stale_write_is_refused_and_reloaded(bucket, tmp_path):
    a, b = container(tmp_path, "a"), container(tmp_path, "b")
    a.refresh()
    write(a, "a1")
    a.publish()
    assert b.refresh() is True
    assert rows(b) == ["a1"]

    write(a, "a2")
    a.publish()
    write(b, "b1")  # b still has the version before a2
    with pytest.raises(OperatorDatabaseConflict):
        b.publish()
    assert rows(b) == ["a1", "a2"]  # reloaded: a2 kept, b1 discarded, nothing overwritten

    write(b, "b1")
    b.publish()
    assert a.refresh() is True
    assert rows(a) == ["a1", "a2", "b1"]


def test_first_creation_is_exclusive(bucket, tmp_path):
    a, b = container(tmp_path, "a"), container(tmp_path, "b")
    write(a, "a")
    write(b, "b")
    a.publish()
    with pytest.raises(OperatorDatabaseConflict):
        b.publish()
    assert rows(b) == ["a"]


def test_concurrent_publishes_have_one_winner(bucket, tmp_path):
    seed = container(tmp_path, "seed")
    write(seed, "seed")
    seed.publish()
    syncs = [container(tmp_path, f"c{i}") for i in range(4)]
    for i, sync in enumerate(syncs):
        sync.refresh()
        write(sync, f"c{i}")
    barrier = threading.Barrier(len(syncs))
    outcomes = []

    def run(sync):
        barrier.wait()
        try:
            sync.publish()
            outcomes.append("ok")
        except OperatorDatabaseConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=run, args=(s,)) for s in syncs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]


def _django_container(tmp_path, name) -> ConnectionHandler:
    return ConnectionHandler(
        {
            "default": {
                "ENGINE": "voj.opsdb",
                "NAME": str(tmp_path / name / "ops.sqlite3"),
                "BUCKET": BUCKET,
                "KEY": KEY,
            }
        }
    )


@pytest.fixture
def engines(bucket, tmp_path, settings, django_db_blocker):
    """Two containers' voj.opsdb connections on one bucket, each with its own local file."""
    from voj.opsdb import base

    settings.VOJ_OPSDB_REFRESH_SECONDS = 0
    base._sync_for.cache_clear()
    with django_db_blocker.unblock():
        connections = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            connections.append(_django_container(tmp_path, name)["default"])
        yield connections
        for connection in connections:
            connection.close()
    base._sync_for.cache_clear()


def test_the_django_engine_publishes_and_refuses_stale_writes(engines):
    a, b = engines
    with a.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v TEXT)")
        cursor.execute("INSERT INTO t VALUES ('a1')")
    a.close()  # outside a request, closing publishes
    with b.cursor() as cursor:
        assert cursor.execute("SELECT v FROM t").fetchall() == [("a1",)]
        cursor.execute("INSERT INTO t VALUES ('b1')")
    with a.cursor() as cursor:  # a's next connection is stale: b has not published yet
        cursor.execute("INSERT INTO t VALUES ('a2')")
    a.publish()
    with pytest.raises(OperatorDatabaseConflict):
        b.publish()
    with b.cursor() as cursor:
        assert sorted(cursor.execute("SELECT v FROM t").fetchall()) == [("a1",), ("a2",)]


def test_a_conflicting_request_answers_409_json(engines, monkeypatch, rf):
    """Through the middleware: the stale container's request is refused loudly, in JSON."""
    from voj.opsdb import middleware

    a, b = engines
    with a.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v TEXT)")
    a.close()
    with b.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")  # b now holds the published version
    with a.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES ('a1')")
    a.close()  # a publishes first

    def view_writing_through_b(request):
        with b.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES ('b1')")
        from django.http import HttpResponse

        return HttpResponse("saved")

    monkeypatch.setattr(middleware, "connections", {"default": b})
    response = middleware.OperatorDatabaseMiddleware(view_writing_through_b)(
        rf.post("/admin/auth/user/add/")
    )
    assert response.status_code == 409
    import json

    assert json.loads(response.content)["code"] == "operator_db_conflict"
    with b.cursor() as cursor:  # reloaded: a's row, not b's
        assert cursor.execute("SELECT v FROM t").fetchall() == [("a1",)]
    b.close()


def test_a_missing_bucket_while_publishing_answers_503_json(
    engines, rf, s3_substrate, request, monkeypatch
):
    if s3_substrate == "seaweedfs":
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="SeaweedFS 4.48 checks If-Match before the bucket: a conditional PUT to "
                "a missing bucket answers 412 PreconditionFailed (a conflict here), where AWS "
                "answers 404 NoSuchBucket",
            )
        )
    import json

    from voj.opsdb import middleware

    _, b = engines
    with b.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v TEXT)")
    b.close()  # published: b now writes over a known version (If-Match)
    monkeypatch.setattr(middleware, "connections", {"default": b})
    with b.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES ('b2')")
    b.sync.bucket = "voj-no-such-bucket"
    response = middleware.OperatorDatabaseMiddleware(lambda request: None)(rf.get("/"))
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "operator_db_unavailable"
    b.sync.bucket = BUCKET
