"""A verifier for CloudFront canned-policy signed URLs, as the edge checks them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def key_pair() -> tuple[str, str]:
    """A fresh RSA key pair (private PEM, public PEM), made at test time."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _unescape(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def cloudfront_url_valid(url: str, public_pem: str, key_id: str, now: datetime | None = None):
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if query.get("Key-Pair-Id") != key_id or "Signature" not in query or "Expires" not in query:
        return False
    expires = int(query["Expires"])
    if (now or datetime.now(UTC)).timestamp() >= expires:
        return False
    resource = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    policy = json.dumps(
        {
            "Statement": [
                {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
            ]
        },
        separators=(",", ":"),
    ).encode()
    public_key = serialization.load_pem_public_key(public_pem.encode())
    try:
        public_key.verify(_unescape(query["Signature"]), policy, padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, ValueError):
        return False
    return True
