"""The local upload policy on its own: signature, expiry boundary, and each condition.

Through HTTP the upload handler's cap fires before the policy's size range can, so the policy's
own checks are proven here, where nothing else decides first.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from streaming.policy import (
    SIGNATURE_FIELD,
    PolicyError,
    _signer,
    policy_check_fields,
    policy_decode,
    policy_encode,
)

EXPIRES = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
CONDITIONS = [
    {"bucket": "voj-audiobooks-local"},
    {"key": "uploads/k"},
    {"Content-Type": "audio/mp4"},
    ["content-length-range", 1, 100],
]


def _code(call) -> str:
    with pytest.raises(PolicyError) as raised:
        call()
    return raised.value.code


def test_encode_then_decode():
    policy, signature = policy_encode(expires_at=EXPIRES, conditions=CONDITIONS)
    document = policy_decode(policy, signature, now=EXPIRES - timedelta(seconds=1))
    assert document == {"expiration": "2030-01-01T12:00:00.000Z", "conditions": CONDITIONS}
    assert json.loads(base64.b64decode(policy))["expiration"] == "2030-01-01T12:00:00.000Z"


def test_a_grant_is_valid_until_its_expiry_and_not_at_it():
    policy, signature = policy_encode(expires_at=EXPIRES, conditions=CONDITIONS)
    assert policy_decode(policy, signature, now=EXPIRES - timedelta(microseconds=1))
    assert _code(lambda: policy_decode(policy, signature, now=EXPIRES)) == "AccessDenied"
    later = EXPIRES + timedelta(seconds=1)
    assert _code(lambda: policy_decode(policy, signature, now=later)) == "AccessDenied"


def test_signature_and_presence():
    policy, signature = policy_encode(expires_at=EXPIRES, conditions=CONDITIONS)
    now = EXPIRES - timedelta(hours=1)
    assert _code(lambda: policy_decode("", signature, now=now)) == "AccessDenied"
    assert _code(lambda: policy_decode(policy, "", now=now)) == "AccessDenied"
    forged = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert _code(lambda: policy_decode(policy, forged, now=now)) == "SignatureDoesNotMatch"
    other = base64.b64encode(b'{"expiration":"2099-01-01T00:00:00.000Z","conditions":[]}').decode()
    assert _code(lambda: policy_decode(other, signature, now=now)) == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"conditions": []}',
        b'{"expiration": "2030-01-01", "conditions": []}',
        b'["expiration"]',
    ],
)
def test_a_signed_but_malformed_document_is_refused(raw):
    policy = base64.b64encode(raw).decode()
    signature = _signer.signature(policy)
    assert _code(lambda: policy_decode(policy, signature)) == "InvalidPolicyDocument"


def test_signed_text_that_is_not_base64_is_refused():
    assert _code(lambda: policy_decode("%%%", _signer.signature("%%%"))) == "InvalidPolicyDocument"


def test_base64_with_stray_characters_is_refused_not_repaired():
    """A lenient decoder drops characters outside the alphabet and would read this as the
    document: only the exact text that was signed is ever read."""
    policy, _ = policy_encode(expires_at=EXPIRES, conditions=CONDITIONS)
    stray = policy[:8] + "!" + policy[8:]
    assert json.loads(base64.b64decode(stray))["expiration"]  # what a lenient decoder reads
    refused = _code(lambda: policy_decode(stray, _signer.signature(stray), now=EXPIRES))
    assert refused == "InvalidPolicyDocument"


def _refusal(call) -> tuple[str, str]:
    with pytest.raises(PolicyError) as raised:
        call()
    assert str(raised.value) == raised.value.detail
    return raised.value.code, raised.value.detail


def test_each_refusal_says_why():
    policy, signature = policy_encode(expires_at=EXPIRES, conditions=CONDITIONS)
    now = EXPIRES - timedelta(hours=1)
    assert _refusal(lambda: policy_decode(policy, "", now=now)) == (
        "AccessDenied",
        "the form has no policy or no signature",
    )
    assert _refusal(lambda: policy_decode(policy, signature + "x", now=now)) == (
        "SignatureDoesNotMatch",
        "the policy signature does not match",
    )
    assert _refusal(lambda: policy_decode("%%%", _signer.signature("%%%"), now=now)) == (
        "InvalidPolicyDocument",
        "the policy document is malformed",
    )
    assert _refusal(lambda: policy_decode(policy, signature, now=EXPIRES)) == (
        "AccessDenied",
        "the upload grant has expired",
    )
    unsupported = {"conditions": [["eq", "$key", "x"]]}
    assert _refusal(lambda: policy_check_fields(unsupported, FIELDS, 10)) == (
        "InvalidPolicyDocument",
        "unsupported policy condition: ['eq', '$key', 'x']",
    )


@pytest.fixture
def seoul_local_time(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_expiration_is_utc_whatever_the_server_s_time_zone(seoul_local_time):
    policy, _ = policy_encode(expires_at=EXPIRES, conditions=CONDITIONS)
    assert json.loads(base64.b64decode(policy))["expiration"] == "2030-01-01T12:00:00.000Z"


FIELDS = {
    "key": "uploads/k",
    "Content-Type": "audio/mp4",
    "policy": "p",
    SIGNATURE_FIELD: "s",
}


@pytest.mark.parametrize(("size", "code"), [(0, "EntityTooSmall"), (101, "EntityTooLarge")])
def test_the_policy_size_range_decides_alone(size, code):
    document = {"conditions": CONDITIONS}
    assert _code(lambda: policy_check_fields(document, FIELDS, size)) == code


@pytest.mark.parametrize("size", [1, 50, 100])
def test_sizes_within_the_range_pass(size):
    policy_check_fields({"conditions": CONDITIONS}, FIELDS, size)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"key": "uploads/other"}, "AccessDenied"),
        ({"Content-Type": "video/mp4"}, "AccessDenied"),
        ({"extra": "x"}, "AccessDenied"),
        ({"key": None}, "AccessDenied"),
    ],
)
def test_every_field_must_be_what_the_policy_says(change, code):
    fields = {k: v for k, v in {**FIELDS, **change}.items() if v is not None}
    assert _code(lambda: policy_check_fields({"conditions": CONDITIONS}, fields, 10)) == code


def test_the_bucket_condition_binds_no_form_field_and_names_compare_case_insensitively():
    conditions = [{"bucket": "b"}, {"Key": "uploads/k"}, {"Content-Type": "audio/mp4"}]
    fields = {**FIELDS, "Key": "uploads/k", "bucket": "anything"}
    del fields["key"]
    policy_check_fields({"conditions": conditions}, fields, 10)


@pytest.mark.parametrize(
    ("size", "code", "detail"),
    [
        (0, "EntityTooSmall", "the file must be at least 1 bytes"),
        (101, "EntityTooLarge", "the file must be at most 100 bytes"),
    ],
)
def test_size_refusals_say_the_limit(size, code, detail):
    with pytest.raises(PolicyError) as refused:
        policy_check_fields({"conditions": CONDITIONS}, FIELDS, size)
    assert (refused.value.code, refused.value.detail, str(refused.value)) == (code, detail, detail)


def test_a_condition_object_binds_each_of_its_fields():
    conditions = [{"bucket": "b", "key": "uploads/k"}, {"Content-Type": "audio/mp4"}]
    policy_check_fields({"conditions": conditions}, FIELDS, 10)
    other = {**FIELDS, "key": "uploads/other"}
    assert _code(lambda: policy_check_fields({"conditions": conditions}, other, 10)) == (
        "AccessDenied"
    )


@pytest.mark.parametrize(
    "condition",
    [["starts-with", "$key", "uploads/"], ["eq", "$key", "uploads/k"], "key", 7, None],
)
def test_a_condition_it_cannot_apply_is_refused(condition):
    document = {"conditions": [*CONDITIONS, condition]}
    assert _code(lambda: policy_check_fields(document, FIELDS, 10)) == "InvalidPolicyDocument"


def test_a_policy_without_conditions_admits_only_its_own_fields():
    policy_check_fields({}, {"policy": "p", SIGNATURE_FIELD: "s", "file": "f"}, 10)
    assert _code(lambda: policy_check_fields({}, FIELDS, 10)) == "AccessDenied"
