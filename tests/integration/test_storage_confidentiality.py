"""Integration: key rotation, the generated key file, and the privacy repository, on both
databases."""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.bootstrap import build_services
from bot.config import Settings
from bot.flows import session as flow
from bot.flows.session import Session
from storage.crypto import Cipher, DecryptionError, configure_cipher
from storage.privacy_repository import PrivacyRepository, encrypted_columns, rotate_keys
from storage.repositories import Group, Store


def _store(store: Store, group: Group, new_session: Callable[..., Session], t0: datetime) -> None:
    session = flow.contribute(
        new_session(), author="ana", ref="m1", text="Mijn casus over K.", now=t0
    ).session
    with store.transaction() as tx:
        tx.add_session(session, group.id)
        tx.enqueue("slack", "T1", "C1", session.id, {"kind": "notice", "text": "casus"}, t0)


def test_rotation_re_encrypts_everything_so_the_old_key_can_go(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    configure_cipher(Cipher([old_key]))
    _store(store, group, new_session, t0)
    both = Cipher([new_key, old_key])
    configure_cipher(both)

    counts = rotate_keys(store.engine, both)

    assert counts["contributions.text"] == 1
    assert counts["outbox.payload"] == 1
    configure_cipher(Cipher([new_key]))
    with store.transaction() as tx:
        stored = tx.get_session("s1")
    assert stored is not None
    assert stored.contributions[0].text == "Mijn casus over K."


def test_without_rotation_the_old_key_is_still_needed(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    configure_cipher(Cipher([old_key]))
    _store(store, group, new_session, t0)
    configure_cipher(Cipher([new_key]))

    with store.transaction() as tx:
        session = tx.get_session("s1")

    assert session is not None
    with pytest.raises(DecryptionError):
        _ = [c.text for c in session.contributions]  # decrypted where they are read


def test_rotation_covers_every_encrypted_column_of_the_models() -> None:
    columns = encrypted_columns()

    assert columns["contributions"] == (["id"], ["text"])
    assert columns["outbox"] == (["id"], ["payload"])


def test_slack_tokens_are_rotated_too(store: Store) -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    token = "enc:" + Cipher([old_key]).encrypt("xoxb-secret")
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO slack_bots (client_id, app_id, team_id, bot_token, bot_id,"
                " bot_user_id, is_enterprise_install, installed_at)"
                " VALUES ('c', 'a', 'T1', :token, 'B1', 'U1', false, CURRENT_TIMESTAMP)"
            ),
            {"token": token},
        )

    counts = rotate_keys(store.engine, Cipher([new_key, old_key]))

    assert counts["slack_bots.bot_token"] == 1
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT bot_token FROM slack_bots")).scalar_one()
    assert stored.startswith("enc:")
    assert Cipher([new_key]).decrypt(stored[4:]) == "xoxb-secret"


def test_a_purged_session_leaves_only_its_summary(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    _store(store, group, new_session, t0)

    with store.transaction() as tx:
        summary = PrivacyRepository(tx).purge_session("s1", now=t0 + timedelta(days=31))

    assert summary is not None
    assert (summary.contributions, summary.participants) == (1, 4)
    with store.engine.connect() as connection:
        for table in ("sessions", "contributions", "outbox"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_the_audit_log_keeps_who_what_and_when(store: Store, group: Group, t0: datetime) -> None:
    with store.transaction() as tx:
        PrivacyRepository(tx).audit(
            at=t0, actor="ben", action="close", platform="slack", workspace="T1", target="s1"
        )
        (entry,) = PrivacyRepository(tx).audit_entries()

    assert (entry.actor, entry.action, entry.target, entry.at) == ("ben", "close", "s1", t0)


def test_without_a_key_the_local_default_generates_an_owner_only_key_file_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "keys" / "intervision.key"
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}", key_file=key_file)

    with caplog.at_level(logging.WARNING):
        build_services(settings)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"generated a key into {key_file} (owner-only)" in caplog.text
    assert key_file.read_text("ascii").strip() not in caplog.text
