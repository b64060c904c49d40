"""The local CloudFront edge of the prod-like mode: CloudFront's signed-URL rules, then the
request, Range included, forwarded to a real S3 server (SeaweedFS) as a signed request."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from deploy.local.edge import LocalEdge, SignedUrlVerifier
from tests.conftest import fixture_bytes
from tests.streaming.cloudfront import key_pair

BUCKET = "voj-edge-test"
KEY_ID = "K2JCJMDEHXQW5F"
AUDIO = fixture_bytes("tone-faststart.m4a")
OBJECT = "media/books/b1/chapters/c1-abcdef12.m4a"


@pytest.fixture(scope="module")
def keys():
    return key_pair()


@pytest.fixture
def edge(seaweedfs_server, keys):
    client = seaweedfs_server.client()
    client.create_bucket(Bucket=BUCKET)
    client.put_object(
        Bucket=BUCKET,
        Key=OBJECT,
        Body=AUDIO,
        ContentType="audio/mp4",
        ServerSideEncryption="AES256",
    )
    verifier = SignedUrlVerifier.from_pem({KEY_ID: keys[1]})
    with LocalEdge(verifier=verifier, s3_client=lambda: client, bucket=BUCKET) as running:
        yield running
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def signer(private_pem: str, key_id: str = KEY_ID) -> CloudFrontSigner:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return CloudFrontSigner(
        key_id, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1())
    )


def canned(edge, keys, *, key=OBJECT, seconds=300, key_id=KEY_ID, private=None) -> str:
    return signer(private or keys[0], key_id).generate_presigned_url(
        f"http://{edge.domain}/{key}", date_less_than=datetime.now(UTC) + timedelta(seconds=seconds)
    )


def custom(edge, keys, *, resource, less=300, greater=None, ip=None) -> str:
    now = datetime.now(UTC)
    cf = signer(keys[0])
    policy = cf.build_policy(
        resource,
        now + timedelta(seconds=less),
        date_greater_than=now + timedelta(seconds=greater) if greater else None,
        ip_address=ip,
    )
    return cf.generate_presigned_url(f"http://{edge.domain}/{OBJECT}", policy=policy)


def get(url: str, **headers) -> requests.Response:
    return requests.get(url, headers=headers, timeout=10)


def denied(response: requests.Response, code: str = "AccessDenied") -> bool:
    return response.status_code == 403 and f"<Code>{code}</Code>" in response.text


def test_a_valid_url_streams_the_range_from_s3(edge, keys):
    url = canned(edge, keys)
    ranged = get(url, Range="bytes=0-127")
    assert ranged.status_code == 206
    assert ranged.content == AUDIO[:128]
    assert ranged.headers["Content-Range"] == f"bytes 0-127/{len(AUDIO)}"
    assert ranged.headers["Content-Type"] == "audio/mp4"
    tail = get(url, Range=f"bytes={len(AUDIO) - 10}-")
    assert tail.status_code == 206 and tail.content == AUDIO[-10:]
    whole = get(url)
    assert whole.status_code == 200 and whole.content == AUDIO
    head = requests.head(url, timeout=10)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(AUDIO)
    assert get(url, Range=f"bytes={len(AUDIO) + 10}-").status_code == 416


def test_a_tampered_url_is_refused(edge, keys):
    url = canned(edge, keys)
    signature = url.split("Signature=")[1].split("&")[0]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    expires = int(url.split("Expires=")[1].split("&")[0])
    for forged in (
        url.replace("c1-abcdef12", "c2-abcdef12"),  # another object
        url.replace(signature, flipped),
        url.replace(f"Expires={expires}", f"Expires={expires + 3600}"),  # a longer life
        url.replace("?", "?download=1&"),  # a query the signature did not cover
        url.split("?")[0],  # unsigned
    ):
        response = get(forged, Range="bytes=0-127")
        assert response.status_code == 403, forged
        assert AUDIO[:128] not in response.content
    assert denied(get(url.split("?")[0]), "MissingKey")


@pytest.mark.parametrize("expires", ["%C2%B2", "1e3", "-1", ""])
def test_a_malformed_expires_is_refused_not_a_crash(edge, keys, expires):
    url = canned(edge, keys)
    old = url.split("Expires=")[1].split("&")[0]
    response = get(url.replace(f"Expires={old}", f"Expires={expires}"))
    assert denied(response, "MalformedQuery"), response.content


def test_an_expired_url_is_refused(edge, keys):
    assert denied(get(canned(edge, keys, seconds=-1), Range="bytes=0-127"))


def test_a_url_for_another_key_pair_is_refused(edge, keys):
    assert denied(get(canned(edge, keys, key_id="KOTHERKEY0001")), "InvalidKey")
    other_private, _ = key_pair()  # the right key id, signed with another private key
    assert denied(get(canned(edge, keys, private=other_private)))


def test_custom_policies(edge, keys):
    prefix = f"http://{edge.domain}/media/books/b1/*"
    assert get(custom(edge, keys, resource=prefix), Range="bytes=0-1").status_code == 206
    elsewhere = f"http://{edge.domain}/media/books/b2/*"
    assert denied(get(custom(edge, keys, resource=elsewhere)))
    assert denied(get(custom(edge, keys, resource=prefix, greater=120)))  # not valid yet
    assert denied(get(custom(edge, keys, resource=prefix, less=-1)))
    assert get(custom(edge, keys, resource=prefix, ip="127.0.0.1/32")).status_code == 200
    assert denied(get(custom(edge, keys, resource=prefix, ip="192.0.2.0/24")))

    # An edited policy no longer matches its signature.
    url = custom(edge, keys, resource=f"http://{edge.domain}/{OBJECT}")
    encoded = url.split("Policy=")[1].split("&")[0]
    policy = json.loads(
        base64.b64decode(encoded.replace("-", "+").replace("_", "=").replace("~", "/"))
    )
    policy["Statement"][0]["Resource"] = prefix
    edited = base64.b64encode(json.dumps(policy).encode()).decode()
    edited = edited.replace("+", "-").replace("=", "_").replace("/", "~")
    assert denied(get(url.replace(encoded, edited)))


def test_a_valid_url_to_a_missing_object_is_404(edge, keys):
    assert get(canned(edge, keys, key="media/books/b1/chapters/gone.m4a")).status_code == 404


def test_the_edge_listens_on_the_loopback_only(edge):
    assert edge.server.server_address[0] == "127.0.0.1"


COVER = "covers/books/b1/0123456789abcdef.jpg"


def test_covers_are_served_unsigned_and_audio_is_not(edge, seaweedfs_server):
    """Like the distribution's covers/* behaviour (no trusted key group) beside its signed
    default behaviour."""
    client = seaweedfs_server.client()
    client.put_object(
        Bucket=BUCKET,
        Key=COVER,
        Body=b"\xff\xd8cover",
        ContentType="image/jpeg",
        CacheControl="public, max-age=31536000, immutable",
    )
    response = get(f"http://{edge.domain}/{COVER}")
    assert response.status_code == 200
    assert response.content == b"\xff\xd8cover"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Type"] == "image/jpeg"
    assert get(f"http://{edge.domain}/covers/books/b1/missing.jpg").status_code == 404
    assert denied(get(f"http://{edge.domain}/{OBJECT}"), "MissingKey")
    # Out of covers/ by a dot-dot segment: checked like any other path.
    for sneaky in (f"covers/../{OBJECT}", f"covers/%2e%2e/{OBJECT}"):
        response = requests.get(f"http://{edge.domain}/{sneaky}", timeout=10)
        assert response.status_code == 403
