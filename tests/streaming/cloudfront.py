"""CloudFront signed URLs as the edge checks them, for the tests: the one verifier is the local
edge's (deploy/local/edge.py), the one key maker deploy/cdn_keys.py."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from deploy.cdn_keys import new_key_pair
from deploy.local.edge import Denied, SignedUrlVerifier


def key_pair() -> tuple[str, str]:
    """A fresh RSA key pair (private PEM, public PEM), made at test time."""
    return new_key_pair()


def cloudfront_url_valid(
    url: str, public_pem: str, key_id: str, now: datetime | None = None
) -> bool:
    parts = urlsplit(url)
    try:
        SignedUrlVerifier.from_pem({key_id: public_pem}).verify(
            base=f"{parts.scheme}://{parts.netloc}",
            path=parts.path,
            query=parts.query,
            viewer_ip="127.0.0.1",
            now=now,
        )
    except Denied:
        return False
    return True
