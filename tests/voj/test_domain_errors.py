"""Each domain error states what the API answers for it: its code, HTTP status and, for a 503,
whether the client may retry (Retry-After). A new error cannot silently answer 400."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from rest_framework.exceptions import ValidationError

from voj.errors import RETRY_AFTER_SECONDS, exception_handler
from voj.exceptions import DomainError

ROOT = Path(__file__).resolve().parents[2]

# What the API answered for each error code before the status moved onto the classes: the
# table is the contract, a change to it a change of the API.
ANSWERS = {
    "invalid": (400, False),
    "book_not_found": (404, False),
    "chapter_not_found": (404, False),
    "version_conflict": (409, False),
    "chapter_number_taken": (409, False),
    "chapter_not_ready": (409, False),
    "nothing_to_publish": (409, False),
    "upload_missing": (409, False),
    "upload_not_expected": (409, False),
    "permission_denied": (403, False),
    "invalid_cursor": (400, False),
    "invalid_upload": (400, False),
    "item_too_large": (400, False),
    "storage_unavailable": (503, True),
    "storage_misconfigured": (503, False),
    "repository_unavailable": (503, True),
    "repository_busy": (503, True),
    "cdn_not_configured": (400, False),
    "invalid_paths": (400, False),
    "operator_db_not_migrated": (503, False),
    "operator_db_unavailable": (503, True),
    "operator_db_read_only": (503, False),
    "progress_not_found": (404, False),
    "bookmark_not_found": (404, False),
    "bookmark_limit_reached": (409, False),
    "invalid_report": (400, False),
    "chapter_not_playable": (400, False),
    "position_out_of_range": (400, False),
    "updated_at_in_future": (400, False),
    "cover_not_pending": (409, False),
    "cover_upload_missing": (409, False),
    "cover_too_small": (400, False),
    "cover_too_large": (400, False),
    "cover_not_an_image": (400, False),
    "cover_corrupt": (400, False),
}

# Errors whose __init__ needs more than a message, and what to give it.
ARGUMENTS = {
    "storage_misconfigured": ("the cause",),
    "operator_db_not_migrated": (["auth.0001_initial"],),
}


def _every_domain_error() -> list[type[DomainError]]:
    """DomainError and every subclass the apps define, wherever it lives."""
    for package in ("voj", "books", "streaming", "listening"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if {"migrations", "settings"} & set(parts) or parts[-1] in {"wsgi", "__init__"}:
                continue
            importlib.import_module(".".join(parts))
    found: list[type[DomainError]] = []
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        if cls.__module__.split(".")[0] in {"voj", "books", "streaming", "listening"}:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_domain_error_answers_as_before():
    errors = _every_domain_error()
    answers = {cls.code: (cls.status_code, cls.retryable) for cls in errors}
    assert len(answers) == len(errors), "two errors share a code"
    assert answers == ANSWERS


@pytest.mark.parametrize("cls", _every_domain_error(), ids=lambda cls: cls.code)
def test_the_api_answers_what_the_class_states(cls):
    error = cls(*ARGUMENTS.get(cls.code, ()))
    response = exception_handler(error, {})
    assert response.status_code == cls.status_code
    assert response.data == {"detail": error.message, "code": cls.code}
    if cls.retryable:
        assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    else:
        assert not response.has_header("Retry-After")


def test_an_error_that_states_no_status_is_refused():
    with pytest.raises(TypeError, match="must declare status_code"):

        class Forgotten(DomainError):
            code = "forgotten"

    with pytest.raises(TypeError, match="must declare code and status_code"):

        class Inherited(DomainError):
            message = "Inherits everything."


def test_a_subclass_restates_its_answer_rather_than_inheriting_it():
    class Parent(DomainError):
        code = "parent"
        status_code = 409

    with pytest.raises(TypeError, match="must declare status_code"):

        class Child(Parent):
            code = "child"


def test_a_503_says_whether_retrying_helps():
    with pytest.raises(TypeError, match="must declare retryable"):

        class Down(DomainError):
            code = "down"
            status_code = 503

    with pytest.raises(TypeError, match="must answer 503"):

        class Retried(DomainError):
            code = "retried"
            status_code = 409
            retryable = True


@pytest.mark.parametrize("status_code", [200, 302, 600])
def test_a_status_is_a_client_or_server_error(status_code):
    with pytest.raises(TypeError, match="4xx or 5xx"):
        type("Odd", (DomainError,), {"code": "odd", "status_code": status_code})


def test_other_errors_keep_drf_answers_without_retry_after():
    response = exception_handler(ValidationError({"title": ["Required."]}), {})
    assert response.status_code == 400
    assert not response.has_header("Retry-After")
