"""CloudFront invalidations from the operator console, against moto."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from tests.conftest import console_session_store_settled
from tests.helpers import published_chapter
from voj.aws import aws_client


@pytest.fixture
def distribution(aws, settings) -> str:
    """The same moto distribution make run-aws creates."""
    from deploy.local.aws import distribution as create_distribution

    settings.VOJ_CDN_DISTRIBUTION_ID = create_distribution(aws_client("cloudfront"))
    return settings.VOJ_CDN_DISTRIBUTION_ID


@pytest.fixture
def staff_without_permission(request, db) -> Client:
    console_session_store_settled(request)
    user = User.objects.create_user("support", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_without_cloudfront_the_page_says_so(console, settings):
    settings.VOJ_CDN_DISTRIBUTION_ID = ""
    page = console.get("/admin/cdn/")
    assert page.status_code == 200
    assert 'id="cdn-not-configured"' in page.content.decode()
    assert console.get("/admin/cdn/new/").status_code == 302


def test_invalidate_a_book_with_confirmation(console, distribution, backend, as_editor, caplog):
    chapter = published_chapter(as_editor)
    book_id = chapter["book_id"]
    form = console.get(f"/admin/cdn/new/?book={book_id}")
    assert form.status_code == 200 and form.context["form"] == {"kind": "book", "value": book_id}
    review = console.post("/admin/cdn/new/", {"kind": "book", "value": book_id})
    assert review.status_code == 200
    assert review.context["paths"] == [f"/media/books/{book_id}/*", f"/covers/books/{book_id}/*"]
    assert (
        not aws_client("cloudfront")
        .list_invalidations(DistributionId=distribution)["InvalidationList"]
        .get("Items")
    )  # nothing before the confirmation
    with caplog.at_level(logging.INFO, logger="voj.audit"):
        done = console.post("/admin/cdn/new/", {"kind": "book", "value": book_id, "confirm": "yes"})
    assert done.status_code == 302
    detail = console.get(done["Location"])
    item = detail.context["item"]
    assert item.paths == (f"/media/books/{book_id}/*", f"/covers/books/{book_id}/*")
    assert item.caller_reference.startswith("voj:operator:")
    assert item.status in {"In progress", "Completed"}
    history = console.get("/admin/cdn/").content.decode()
    assert item.id in history
    record = next(r for r in caplog.records if r.name == "voj.audit")
    assert (record.actor, record.action) == ("operator", "cdn.invalidate")
    assert record.invalidation_id == item.id


def test_invalidate_one_chapter(console, distribution, backend, as_editor):
    chapter = published_chapter(as_editor)
    review = console.post("/admin/cdn/new/", {"kind": "chapter", "value": chapter["id"]})
    [path] = review.context["paths"]
    assert path.startswith(f"/media/books/{chapter['book_id']}/chapters/{chapter['id']}-")
    assert path.endswith(".m4a")
    page = console.get(f"/admin/catalogue/chapters/{chapter['id']}/").content.decode()
    assert f"/admin/cdn/new/?chapter={chapter['id']}" in page


def test_caller_references_are_unique(console, distribution):
    refs = set()
    for _ in range(3):
        done = console.post(
            "/admin/cdn/new/", {"kind": "paths", "value": "/media/x.m4a", "confirm": "yes"}
        )
        refs.add(console.get(done["Location"]).context["item"].caller_reference)
    assert len(refs) == 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("media/no-slash.m4a", "must start with"),
        ("/media/a*b", "may only be the last"),
        ("/media/with space", "spaces"),
        ("\n".join(f"/w{i}/*" for i in range(16)), "15 wildcard"),
        ("\n".join(f"/p{i}" for i in range(101)), "At most 100"),
        ("  \n ", "at least one"),
    ],
)
def test_bad_paths_are_refused(console, distribution, value, message):
    response = console.post("/admin/cdn/new/", {"kind": "paths", "value": value, "confirm": "yes"})
    assert response.status_code == 400
    assert message in response.content.decode()
    listed = aws_client("cloudfront").list_invalidations(DistributionId=distribution)
    assert not listed["InvalidationList"].get("Items")


def test_unknown_targets_are_refused(console, distribution, db):
    missing = "00000000-0000-0000-0000-000000000000"
    for kind in ("book", "chapter"):
        response = console.post("/admin/cdn/new/", {"kind": kind, "value": missing})
        assert response.status_code == 400


@pytest.mark.parametrize("value", ["", "   ", "not-an-id", "x" * 3000, "../../etc"])
def test_text_that_is_no_id_is_refused_on_every_backend(console, distribution, backend, value):
    for kind in ("book", "chapter"):
        response = console.post("/admin/cdn/new/", {"kind": kind, "value": value})
        assert response.status_code == 400
        assert f"No {kind} with that id." in response.content.decode()


def test_staff_without_the_permission_see_history_only(staff_without_permission, distribution):
    client = staff_without_permission
    page = client.get("/admin/cdn/")
    assert page.status_code == 200
    assert "New invalidation" not in page.content.decode()
    assert client.get("/admin/cdn/new/").status_code == 403
    response = client.post("/admin/cdn/new/", {"kind": "paths", "value": "/x", "confirm": "yes"})
    assert response.status_code == 403
    listed = aws_client("cloudfront").list_invalidations(DistributionId=distribution)
    assert not listed["InvalidationList"].get("Items")


def test_the_permission_can_be_granted_by_group(distribution, db):
    user = User.objects.create_user("cdn-operator", password="x", is_staff=True)
    group = Group.objects.create(name="cdn operators")
    group.permissions.add(Permission.objects.get(codename="invalidate_cdn"))
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    done = client.post("/admin/cdn/new/", {"kind": "paths", "value": "/a", "confirm": "yes"})
    assert done.status_code == 302


def test_history_shows_paths_and_who_asked(console, distribution, db):
    done = console.post(
        "/admin/cdn/new/",
        {"kind": "paths", "value": "/media/a.m4a\n/media/b/*", "confirm": "yes"},
    )
    assert done.status_code == 302
    # One made elsewhere (the AWS console, the CLI): no requester to name.
    aws_client("cloudfront").create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/elsewhere"]},
            "CallerReference": "cli-2026-11-25",
        },
    )
    page = console.get("/admin/cdn/")
    by_path = {item.paths: item for item in page.context["invalidations"]}
    assert by_path[("/media/a.m4a", "/media/b/*")].requested_by == "operator"
    assert by_path[("/elsewhere",)].requested_by == ""
    html = page.content.decode()
    assert "<code>/media/a.m4a</code><br><code>/media/b/*</code>" in html
    assert "<td>operator</td>" in html
    assert "CDN</a> &rsaquo; CloudFront invalidations</div>" in html
    detail = console.get(done["Location"]).content.decode()
    assert '<th scope="row">Requested by</th><td>operator</td>' in detail


def test_requester_comes_only_from_this_consoles_references():
    from streaming.invalidations import Invalidation

    def who(reference: str) -> Invalidation:
        return Invalidation(id="I", status="Completed", created_at=None, caller_reference=reference)

    assert who("voj:ops.lee@example.com:20261125T1200Z:ab12").requested_by == "ops.lee@example.com"
    assert who("voj:").requested_by == ""
    assert who("voj:name").requested_by == ""
    assert who("terraform:name:x").requested_by == ""


def refuse_cloudfront(operation: str) -> None:
    """CloudFront unreachable for one operation, as botocore reports it after its retries."""
    from botocore.exceptions import EndpointConnectionError

    def unreachable(**kwargs):
        raise EndpointConnectionError(endpoint_url="https://cloudfront.amazonaws.com")

    events = aws_client("cloudfront").meta.events
    events.register(f"before-call.cloudfront.{operation}", unreachable)


def test_cloudfront_unreachable_is_a_503_page_that_says_so(console, distribution, db):
    refuse_cloudfront("CreateInvalidation")
    response = console.post("/admin/cdn/new/", {"kind": "paths", "value": "/a", "confirm": "yes"})
    assert response.status_code == 503
    assert "CloudFront could not be reached" in response.content.decode()
    assert response.context["form"] == {"kind": "paths", "value": "/a"}
    refuse_cloudfront("ListInvalidations")
    history = console.get("/admin/cdn/")
    assert history.status_code == 503
    assert "CloudFront could not be reached" in history.content.decode()


def test_an_invalidation_cloudfront_refuses_is_a_400_page(console, distribution, settings):
    settings.VOJ_CDN_DISTRIBUTION_ID = "EDFDVBD6EXAMPLE"  # no such distribution
    response = console.post("/admin/cdn/new/", {"kind": "paths", "value": "/a", "confirm": "yes"})
    assert response.status_code == 400
    assert response.context["form"] == {"kind": "paths", "value": "/a"}
