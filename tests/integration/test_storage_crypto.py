"""Integration: encryption keys are found or made safely, and texts are stored encrypted."""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.flows import session as flow
from bot.flows.session import Session
from storage.crypto import (
    Cipher,
    CipherNotConfiguredError,
    DecryptionError,
    InvalidKeyError,
    configure_cipher,
    load_or_create_keys,
)
from storage.repositories import Group, Store


def test_key_file_is_created_readable_by_the_owner_only(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "intervision.key"

    keys, created = load_or_create_keys(None, key_file)

    assert created
    assert len(keys) == 1
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_an_existing_key_file_is_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "intervision.key"
    first, _ = load_or_create_keys(None, key_file)

    again, created = load_or_create_keys(None, key_file)

    assert again == first
    assert not created


def test_keys_from_the_environment_win_and_create_no_file(tmp_path: Path) -> None:
    newest, older = Cipher.generate_key(), Cipher.generate_key()
    key_file = tmp_path / "intervision.key"

    keys, created = load_or_create_keys(f" {newest} , {older} ", key_file)

    assert keys == [newest, older]
    assert not created
    assert not key_file.exists()


def test_a_malformed_key_is_refused_without_being_echoed() -> None:
    with pytest.raises(InvalidKeyError) as refused:
        load_or_create_keys("not-a-fernet-key", Path("unused.key"))

    assert "not-a-fernet-key" not in str(refused.value)


def test_an_empty_key_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "intervision.key"
    key_file.write_text("# rotated out\n\n")

    with pytest.raises(InvalidKeyError):
        load_or_create_keys(None, key_file)


def test_text_encrypted_with_an_older_key_still_decrypts_and_rotates_to_the_newest() -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    token = Cipher([old_key]).encrypt("vertrouwelijk")
    both = Cipher([new_key, old_key])

    rotated = both.rotate(token)

    assert both.decrypt(token) == "vertrouwelijk"
    assert Cipher([new_key]).decrypt(rotated) == "vertrouwelijk"


def test_decrypting_with_the_wrong_key_raises_a_clear_error() -> None:
    token = Cipher([Cipher.generate_key()]).encrypt("geheim")

    with pytest.raises(DecryptionError):
        Cipher([Cipher.generate_key()]).decrypt(token)


def _store_a_contribution(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> Session:
    session = flow.contribute(
        new_session(), author="ana", ref="m1", text="Mijn casus over K.", now=t0
    ).session
    with store.transaction() as tx:
        tx.add_session(session, group.id)
    return session


def test_contribution_text_is_not_stored_in_plain_text(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    session = _store_a_contribution(store, group, new_session, t0)

    with store.engine.connect() as connection:
        raw = connection.execute(text("SELECT text FROM contributions")).scalar_one()
    assert "casus" not in raw
    with store.transaction() as tx:
        stored = tx.get_session(session.id)
    assert stored is not None
    assert stored.contributions[0].text == "Mijn casus over K."


def test_queued_message_payload_is_not_stored_in_plain_text(store: Store, t0: datetime) -> None:
    with store.transaction() as tx:
        tx.enqueue("slack", "T1", "C1", None, {"kind": "notice", "text": "Mijn casus"}, t0)

    with store.engine.connect() as connection:
        raw = connection.execute(text("SELECT payload FROM outbox")).scalar_one()
    assert "casus" not in raw
    assert "notice" not in raw


def test_without_a_configured_cipher_nothing_is_written_in_plain_text(
    store: Store, t0: datetime
) -> None:
    configure_cipher(None)

    with pytest.raises(CipherNotConfiguredError), store.transaction() as tx:
        tx.enqueue("slack", "T1", "C1", None, {"text": "Mijn casus"}, t0)

    assert store.pending_count() == 0


def test_rows_written_before_a_new_key_was_put_first_are_still_read(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    configure_cipher(Cipher([old_key]))
    _store_a_contribution(store, group, new_session, t0)
    configure_cipher(Cipher([new_key, old_key]))

    with store.transaction() as tx:
        stored = tx.get_session("s1")

    assert stored is not None
    assert stored.contributions[0].text == "Mijn casus over K."


def test_rows_are_unreadable_with_only_an_unrelated_key(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    _store_a_contribution(store, group, new_session, t0)
    configure_cipher(Cipher([Cipher.generate_key()]))

    with store.transaction() as tx:
        stored = tx.get_session("s1")

    assert stored is not None
    with pytest.raises(DecryptionError):
        _ = stored.contributions[0].text  # texts are decrypted where they are read
