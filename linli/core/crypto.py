"""Field encryption for personal data, on the `cryptography` library.

Two keys are derived from LINLI_FIELD_KEY with HKDF, one per purpose:
- a Fernet key (AES-128-CBC + HMAC-SHA256, random IV) for the ciphertext kept at rest;
- an HMAC-SHA256 key for the keyed hash stored beside it, so an exact value can be looked up and
  de-duplicated without decrypting anything.

Models store ciphertext as plain text columns and decrypt only on an explicit reveal or export, so
plaintext never sits on a model instance that a list page, a log line or an error page could show.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

HASH_LENGTH = 32  # hex characters kept of the keyed hash (128 bits)


class DecryptionError(Exception):
    """The ciphertext was not made with the configured key (or was tampered with)."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"linli-field-v1", info=purpose).derive(
        secret.encode()
    )


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[Fernet, bytes]:
    fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"encrypt")))
    return fernet, _derive(secret, b"lookup-hash")


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    fernet, _ = _keys(settings.LINLI_FIELD_KEY)
    return fernet.encrypt(plaintext.encode()).decode("ascii")


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    fernet, _ = _keys(settings.LINLI_FIELD_KEY)
    try:
        return fernet.decrypt(ciphertext.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("ciphertext does not match the configured LINLI_FIELD_KEY") from exc


def encrypt_bytes(data: bytes) -> str:
    """Ciphertext (a Fernet token, ASCII) of a whole file, e.g. an uploaded spreadsheet."""
    fernet, _ = _keys(settings.LINLI_FIELD_KEY)
    return fernet.encrypt(data).decode("ascii")


def decrypt_bytes(ciphertext: str) -> bytes:
    if not ciphertext:
        return b""
    fernet, _ = _keys(settings.LINLI_FIELD_KEY)
    try:
        return fernet.decrypt(ciphertext.encode("ascii"))
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("ciphertext does not match the configured LINLI_FIELD_KEY") from exc


def keyed_hash(normalized: str) -> str:
    """Deterministic, keyed digest of an already-normalized value ("" stays "")."""
    if not normalized:
        return ""
    _, key = _keys(settings.LINLI_FIELD_KEY)
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]
