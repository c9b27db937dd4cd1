"""Real EC key pairs for the signing tests, written as PEM files as `model_signing` reads them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


@dataclasses.dataclass(frozen=True)
class Keys:
    private: Path  # PKCS#8 PEM
    public: Path  # SubjectPublicKeyInfo PEM

    @property
    def public_pem(self) -> bytes:
        return self.public.read_bytes()


def make_keys(where: Path, curve: ec.EllipticCurve | None = None) -> Keys:
    where.mkdir(parents=True)
    key = ec.generate_private_key(curve or ec.SECP256R1())
    keys = Keys(where / "priv.pem", where / "pub.pem")
    keys.private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    keys.public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    return keys
