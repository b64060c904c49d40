"""CloudFront signing keys: one place that makes an RSA key pair and derives its public half.

The deploy tools (first key, rotation), the prod-like local mode and the tests all need the same
PEM forms: the private key as CloudFront's signer reads it (PKCS#1), the public key as
CloudFormation's `AWS::CloudFront::PublicKey` takes it (SubjectPublicKeyInfo).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def new_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def new_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM), made now."""
    private = new_private_pem()
    return private, public_pem(private)
