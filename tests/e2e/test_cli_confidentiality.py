"""The ``intervision`` command line for operators (issue 5): export only approved records,
rotate keys, purge what the retention periods no longer allow."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cli import main
from storage.crypto import configure_cipher

SCRIPT = (
    "/as ben\n/intervision start ims owner=anna with=clara\n/as anna\nThe case.\n"
    "/as ben\n/intervision close\n"
)


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("INTERVISION_KEY_FILE", str(tmp_path / "cli.key"))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "INTERVISION_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    configure_cipher(None)


def _closed_session(monkeypatch: pytest.MonkeyPatch, capsys, approve: bool = False) -> str:
    script = SCRIPT + ("/as anna\n/intervision approve\n" if approve else "")
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    return out.split("/intervision approve ", 1)[1].split()[0]


def test_export_refuses_a_record_the_case_owner_has_not_approved(monkeypatch, capsys) -> None:
    session_id = _closed_session(monkeypatch, capsys)

    assert main(["export", session_id]) == 1

    err = capsys.readouterr().err
    assert f"The record of session {session_id} has not been approved" in err
    assert "--draft" in err


def test_an_operator_can_export_a_draft_marked_as_such(monkeypatch, capsys) -> None:
    session_id = _closed_session(monkeypatch, capsys)

    assert main(["export", session_id, "--draft"]) == 0

    assert "Draft: not yet approved by the case owner." in capsys.readouterr().out


def test_an_approved_record_is_exported(monkeypatch, capsys) -> None:
    session_id = _closed_session(monkeypatch, capsys, approve=True)

    assert main(["export", session_id]) == 0

    assert "Approved by the case owner:" in capsys.readouterr().out


def test_keys_rotate_re_encrypts_with_the_newest_key(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    session_id = _closed_session(monkeypatch, capsys, approve=True)
    old = (workdir / "cli.key").read_text("ascii").strip()
    new = Fernet.generate_key().decode("ascii")
    monkeypatch.setenv("INTERVISION_ENCRYPTION_KEYS", f"{new},{old}")

    assert main(["keys", "rotate"]) == 0
    assert "re-encrypted" in capsys.readouterr().out

    monkeypatch.setenv("INTERVISION_ENCRYPTION_KEYS", new)
    assert main(["export", session_id]) == 0
    assert "The case." in capsys.readouterr().out


def test_keys_generate_prints_a_fresh_key(capsys) -> None:
    assert main(["keys", "generate"]) == 0

    Fernet(capsys.readouterr().out.strip().encode("ascii"))


def test_purge_deletes_sessions_past_their_retention(monkeypatch, capsys) -> None:
    session_id = _closed_session(monkeypatch, capsys, approve=True)
    later = (datetime.now(UTC) + timedelta(days=31)).isoformat()

    assert main(["purge", "--now", later]) == 0
    assert "purged 1 session(s)" in capsys.readouterr().out

    assert main(["export", session_id]) == 1
    assert "not found" in capsys.readouterr().err
