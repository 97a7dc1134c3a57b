"""Storage: encryption at rest for what people wrote (contribution texts, queued messages).

A ``Cipher`` wraps Fernet keys, newest first: the newest encrypts, every key decrypts,
so a key can be rotated in without making older rows unreadable. ``EncryptedText``
is the column type that uses the cipher configured at start-up; with none configured
it refuses to read or write rather than fall back to plain text.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, Text
from sqlalchemy.exc import DontWrapMixin
from sqlalchemy.types import TypeDecorator

ENV_VAR = "INTERVISION_ENCRYPTION_KEYS"


class InvalidKeyError(ValueError):
    """A configured encryption key is missing or malformed."""


# DontWrapMixin: raised while a statement runs, these reach the caller as they are
# rather than wrapped in SQLAlchemy's StatementError, so they can be caught by type.


class CipherNotConfiguredError(DontWrapMixin, RuntimeError):
    """An encrypted column was used before ``configure_cipher`` was called."""


class DecryptionError(DontWrapMixin, ValueError):
    """A stored value could not be decrypted with any configured key."""


class Cipher:
    """Symmetric encryption of text with one or more Fernet keys (newest first)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise InvalidKeyError("at least one encryption key is needed")
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError) as error:
                # Never echo the key itself: it would end up in logs.
                raise InvalidKeyError(
                    f"encryption key #{position} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from error
        self._fernet = MultiFernet(fernets)

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError) as error:
            raise DecryptionError(
                f"a stored value cannot be decrypted with any of the configured keys "
                f"(was an old key removed from {ENV_VAR} or the key file?)"
            ) from error

    def rotate(self, token: str) -> str:
        """The same plaintext, re-encrypted with the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError) as error:
            raise DecryptionError("a stored value cannot be decrypted for rotation") from error


def load_or_create_keys(env_value: str | None, key_file: Path) -> tuple[list[str], bool]:
    """The encryption keys, newest first, and whether a new key file was created.

    Keys come from ``INTERVISION_ENCRYPTION_KEYS`` (comma-separated) when it is set;
    otherwise from ``key_file`` (one key a line, newest first), which is generated with
    owner-only permissions when it does not exist yet.

    Raises:
        InvalidKeyError: the variable or the file holds no key, or a malformed one.
    """
    if env_value is not None and env_value.strip():
        keys = [key.strip() for key in env_value.split(",") if key.strip()]
        Cipher(keys)
        return keys, False
    if key_file.exists():
        return _read_key_file(key_file), False
    created = _create_key_file(key_file)
    return _read_key_file(key_file), created


def _read_key_file(key_file: Path) -> list[str]:
    lines = key_file.read_text("ascii").splitlines()
    keys = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise InvalidKeyError(f"the key file {key_file} holds no key")
    Cipher(keys)
    return keys


def _create_key_file(key_file: Path) -> bool:
    """Write a fresh key atomically; False when another process got there first."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            os.fchmod(handle.fileno(), 0o600)  # the umask may not take bits away from 0o600
            handle.write(Cipher.generate_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # A hard link never replaces an existing file: two processes starting at once
        # end up sharing whichever key was linked first.
        try:
            os.link(temporary, key_file)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


_lock = threading.Lock()
_cipher: Cipher | None = None


def configure_cipher(cipher: Cipher | None) -> None:
    """Set the process-wide cipher the encrypted columns use (``None`` unsets it).

    Process-wide rather than per context: the outbox is drained from worker threads,
    which would not see a context variable set at start-up.
    """
    global _cipher
    with _lock:
        _cipher = cipher


def current_cipher() -> Cipher:
    """The configured cipher.

    Raises:
        CipherNotConfiguredError: when the composition root has not configured one.
    """
    cipher = _cipher
    if cipher is None:
        raise CipherNotConfiguredError(
            "no encryption key is configured: call storage.crypto.configure_cipher() "
            "before reading or writing encrypted columns"
        )
    return cipher


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the configured cipher on the way in, decrypted on the way out."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return current_cipher().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return current_cipher().decrypt(value)
