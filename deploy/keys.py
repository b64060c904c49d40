"""The CloudFront signing key pair of a stage's first key.

    python -m deploy keys create STAGE

The private key goes only to SSM, the public key to a file (deploy/keys/) that the edge stack
takes at its creation. A rotation makes its keys itself (`keys rotate`, deploy/rotation.py).
"""

from __future__ import annotations

from pathlib import Path

from deploy.cdn_keys import new_private_pem, public_pem
from deploy.shared import DEPLOY, say
from deploy.stage_secrets import CLOUDFRONT_KEY, parameter, put_parameter, secrets_path

# Read at each call, not bound at import: the tests point it at a temporary directory.
KEYS = DEPLOY / "keys"


def public_key_path(stage: str, *, slot: str = "") -> Path:
    return KEYS / f"{stage}-cloudfront{slot}.pub.pem"


def keys_create(stage: str, *, rotate: bool = False) -> Path:
    """The stage's key pair, made once: run again, it rewrites the public key from SSM's."""
    name = CLOUDFRONT_KEY + ("_NEXT" if rotate else "")
    pem = parameter(stage, name)
    if pem is None:
        pem = new_private_pem()
        put_parameter(stage, name, pem, overwrite=False)
        say(f"new CloudFront key stored as {secrets_path(stage)}{name}")
    public = public_pem(pem).encode()
    path = public_key_path(stage, slot="-next" if rotate else "")
    KEYS.mkdir(exist_ok=True)
    path.write_bytes(public)
    say(f"public key: {path}")
    return path
