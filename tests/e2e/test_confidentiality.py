"""Confidentiality as a team experiences it (issue 5), on the console platform and both databases.

A moed-en-lef session in which someone types a BSN and a phone number: they are told
privately, the record shows neither, the database holds no plain text, nothing of it is
logged, and thirty days later nothing of the case remains.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.handlers.retention import purge_expired
from bot.platforms.console.app import ConsoleApp
from bot.platforms.console.board import Board
from storage.privacy_repository import PrivacyRepository
from tests.support.app import Harness

CASE = "The father of child A (BSN 111222333) rings me at 06-12345678 every night, drunk."
QUESTION = "Which school does the eldest go to, and did the mentor notice the bruises?"
SECRETS = ("111222333", "06-12345678", "0612345678")
PLAIN_PHRASES = ("father of child A", "rings me at", "the mentor notice the bruises")
START = "/intervision start moed-en-lef owner=anna with=clara,david lang=en"


def _run_session(harness: Harness) -> str:
    """A whole moed-en-lef session: the case with a BSN and a phone number, to approval."""
    harness.type("/as ben", START, "/as anna", CASE, "/as ben", "/intervision next")
    harness.type("/as clara", QUESTION, "/as ben", "/intervision next")
    harness.type("/as clara", "+:fearful:", "/as david", "+:worried:", "/as anna", "+:fearful:")
    for _ in range(5):
        harness.type("/as ben", "/intervision next")
    harness.type("/as anna", "/intervision approve")
    return harness.transcript


def _session_ids(harness: Harness) -> list[str]:
    with harness.services.store.engine.connect() as connection:
        return list(connection.execute(text("SELECT id FROM sessions")).scalars())


def _raw_database(harness: Harness, tmp_path: Path) -> bytes:
    """Every byte the database holds: the SQLite files, or every column of every table."""
    engine = harness.services.store.engine
    if engine.dialect.name == "sqlite":
        files = sorted(tmp_path.glob("bot.db*"))
        assert files, "the SQLite database file is missing"
        return b"".join(path.read_bytes() for path in files)
    dump: list[str] = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for column in inspect(connection).get_columns(table):
                values = connection.execute(
                    text(f'SELECT CAST("{column["name"]}" AS TEXT) FROM "{table}"')
                ).scalars()
                dump += [value for value in values if value is not None]
    return "\n".join(dump).encode("utf-8")


def test_the_author_alone_is_told_which_identifiers_were_found(harness: Harness) -> None:
    out = harness.type("/as ben", START, "/as anna", CASE)

    notices = [line for line in out.splitlines() if "(only" in line]
    assert len(notices) == 1
    assert notices[0].strip().startswith("(only anna) Your message contained")
    assert "a citizen service number (BSN)" in notices[0]
    assert "a phone number" in notices[0]
    assert not any(secret in notices[0] for secret in SECRETS)


def test_the_record_shows_neither_the_bsn_nor_the_phone_number(harness: Harness) -> None:
    transcript = _run_session(harness)

    record = transcript.split("# Record:")[-1]
    assert "[redacted:bsn]" in record.replace("\\", "")
    assert "[redacted:phone]" in record.replace("\\", "")
    assert not any(secret in record for secret in SECRETS)


def test_the_database_holds_no_plain_text_of_the_case(harness: Harness, tmp_path: Path) -> None:
    _run_session(harness)

    raw = _raw_database(harness, tmp_path)

    for phrase in (*PLAIN_PHRASES, *SECRETS):
        assert phrase.encode("utf-8") not in raw, phrase


def test_thirty_days_after_closing_nothing_of_the_case_remains(harness: Harness) -> None:
    _run_session(harness)
    (session_id,) = _session_ids(harness)

    report = purge_expired(harness.services, harness.clock.now + timedelta(days=30, minutes=1))

    assert report.sessions == (session_id,)
    engine = harness.services.store.engine
    with engine.connect() as connection:
        for table in ("sessions", "contributions", "reactions", "votes", "step_runs"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table
        queued = "SELECT count(*) FROM outbox WHERE session_id IS NOT NULL OR sent_at IS NOT NULL"
        assert connection.execute(text(queued)).scalar() == 0
    with harness.services.store.transaction() as tx:
        (summary,) = PrivacyRepository(tx).summaries()
    assert (summary.method_id, summary.participants, summary.contributions) == ("moed-en-lef", 4, 2)


def test_a_session_within_its_retention_period_is_kept(harness: Harness) -> None:
    _run_session(harness)

    report = purge_expired(harness.services, harness.clock.now + timedelta(days=29))

    assert report.sessions == ()
    assert len(_session_ids(harness)) == 1


def test_a_groups_own_retention_period_decides(harness: Harness) -> None:
    harness.type("/as ben", "/intervision privacy retention=7")
    _run_session(harness)

    report = purge_expired(harness.services, harness.clock.now + timedelta(days=8))

    assert len(report.sessions) == 1


def test_logs_of_a_whole_session_hold_no_case_text_and_no_key(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "alembic", "bot", "storage", *logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)  # also libraries that quieten themselves

    _run_session(harness)
    purge_expired(harness.services, harness.clock.now + timedelta(days=31))

    logged = caplog.text + "\n".join(str(record.__dict__) for record in caplog.records)
    assert caplog.records, "nothing was logged: the capture is not working"
    for phrase in (*PLAIN_PHRASES, *SECRETS, "[redacted:bsn]"):
        assert phrase not in logged, phrase
    key = (tmp_path / "test.key").read_text("ascii").strip()
    assert key not in logged


def test_in_hold_mode_a_contribution_waits_for_an_edit_without_identifiers(
    harness: Harness,
) -> None:
    harness.type("/as ben", "/intervision privacy mode=hold", START)
    out = harness.type("/as anna", "Call the mother on 06-12345678 please")
    assert "This group holds such messages back" in out
    assert _contributions(harness) == []

    out = harness.type(f"/edit {_ref(harness, 'anna', 'Call the mother')} Call the mother, please")

    assert "now counts" in out
    assert _contributions(harness) == ["Call the mother, please"]


def _ref(harness: Harness, author: str, text: str) -> str:
    """The console's number of the message ``author`` wrote."""
    found = re.search(rf"\[(\d+)\] {author}: {re.escape(text)}", harness.transcript)
    assert found, f"{author} did not write {text!r}"
    return found.group(1)


def _contributions(harness: Harness) -> list[str]:
    with harness.services.store.transaction() as tx:
        (session,) = tx.open_sessions_in("console", "local", "console")
        return [c.text for c in session.contributions if c.counts]


# --- write privately, reveal together ----------------------------------------------------


def _to_written_positions(harness: Harness) -> None:
    harness.type(
        "/as ben", "/intervision start incidentmethode owner=anna with=clara,david,eva lang=en"
    )
    for _ in range(5):
        harness.type("/intervision next")


def test_a_private_step_asks_for_answers_by_direct_message(harness: Harness) -> None:
    _to_written_positions(harness)
    assert "Write your answer privately: /intervision private <text>" in harness.transcript

    out = harness.type("/as clara", "I would have phoned the mentor first.")

    assert "(only clara) This step collects answers privately" in out


def test_private_answers_are_hidden_until_the_step_closes_and_then_shown_together(
    harness: Harness,
) -> None:
    _to_written_positions(harness)
    before = harness.type(
        "/as clara",
        "/intervision private I would have phoned the mentor first.",
        "/as david",
        "/dm I would have waited a day.",
    )
    assert "phoned the mentor" not in before
    assert "waited a day" not in before
    assert "(only clara) Received privately" in before

    after = harness.type("/as ben", "/intervision next")

    reveal = after.split("now shown together: Written positions")[1]
    assert "**clara:** I would have phoned the mentor first." in reveal
    assert "**david:** I would have waited a day." in reveal
    assert reveal.index("phoned the mentor") < reveal.index("Step 7 of")


# --- the case owner approves the record ------------------------------------------------------


def _close(harness: Harness) -> str:
    harness.type("/as ben", START, "/as anna", "A case without names.")
    return harness.type("/as ben", "/intervision close")


def test_at_close_the_record_goes_to_the_case_owner_only(harness: Harness) -> None:
    out = _close(harness)

    assert "anna first reads and approves the record" in out
    (draft,) = [part for part in out.split("(direct message to ") if part.startswith("anna)")]
    assert "# Record:" in draft
    assert "Draft: not yet approved by the case owner." in draft
    assert f"/intervision approve {_session_ids(harness)[0]}" in draft
    assert "# Record:" not in out.replace(draft, "")


def test_only_the_case_owner_can_approve(harness: Harness) -> None:
    _close(harness)

    out = harness.type("/as clara", f"/intervision approve {_session_ids(harness)[0]}")

    assert "(only clara) Only the case owner can approve the record." in out
    assert "# Record:" not in out


def test_after_approval_the_record_is_posted_in_the_thread(harness: Harness) -> None:
    _close(harness)

    out = harness.type("/as anna", "/intervision approve")

    assert "intervision: anna approved the record." in out
    assert "intervision: # Record:" in out
    assert "Approved by the case owner:" in out


def test_a_participant_can_withdraw_until_the_record_is_approved(harness: Harness) -> None:
    harness.type("/as ben", START, "/as anna", "A case.", "/as ben", "/intervision next")
    harness.type("/as clara", "A question I regret.", "/as ben", "/intervision close")

    question, case = (
        _ref(harness, "clara", "A question I regret."),
        _ref(harness, "anna", "A case."),
    )

    listing = harness.type("/as clara", "/intervision withdraw")
    done = harness.type(f"/intervision withdraw {question}")
    approved = harness.type("/as anna", "/intervision approve")

    assert f"- {question} (Clarifying questions): A question I regret." in listing
    assert f"Withdrawn: {question}." in done
    assert "A question I regret." not in approved
    refused = harness.type("/as anna", f"/intervision withdraw {case}")
    assert "can no longer be withdrawn" in refused


# --- a person's data --------------------------------------------------------------------------


def test_my_data_sends_everything_one_wrote_as_a_direct_message(harness: Harness) -> None:
    harness.type("/as ben", START, "/as anna", "My case, pseudonymised.")

    out = harness.type("/intervision my-data")

    assert "(direct message to anna) Everything anna wrote" in out
    assert f"- [{_ref(harness, 'anna', 'My case, pseudonymised.')}] case: My case" in out


def test_forget_asks_first_and_then_deletes_what_one_wrote(harness: Harness) -> None:
    harness.type("/as ben", START, "/as anna", "My case, pseudonymised.")

    asked = harness.type("/intervision forget")
    assert "1 contribution(s) in 1 session(s)" in asked
    assert _contributions(harness) == ["My case, pseudonymised."]

    done = harness.type("/intervision forget confirm")

    assert "deleted 1 contribution(s)" in done
    assert _contributions(harness) == []


# --- protocol reminder -------------------------------------------------------------------------


def test_a_group_sets_its_own_protocol_reminder(harness: Harness) -> None:
    harness.type("/as ben", "/intervision privacy protocol=Unsafe? Call Veilig Thuis: 0800-2000.")

    out = harness.type(START)

    assert "intervision: Unsafe? Call Veilig Thuis: 0800-2000." in out
    assert "does not replace your organisation's reporting protocol" not in out


def test_the_organisations_protocol_reminder_replaces_the_standard_text(
    harness: Harness,
) -> None:
    from dataclasses import replace

    services = replace(harness.services, protocol_reminders={"en": "Follow our Meldcode first."})
    harness.console = ConsoleApp(services, Board(harness.out))

    out = harness.type("/as ben", START)

    assert "intervision: Follow our Meldcode first." in out


def test_methods_without_violence_carry_no_protocol_reminder(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision start ims owner=anna")

    assert "reporting protocol" not in out


# --- audit log ------------------------------------------------------------------------------------


def test_administrative_actions_go_to_the_audit_log_without_case_text(harness: Harness) -> None:
    harness.type("/as ben", "/intervision privacy mode=hold", START, "/as anna", "A case.")
    harness.type("/as ben", "/intervision pause", "/intervision resume", "/intervision close")
    harness.type("/as anna", "/intervision approve", "/intervision forget confirm")
    (session_id,) = _session_ids(harness)
    purge_expired(harness.services, harness.clock.now + timedelta(days=31))

    with harness.services.store.transaction() as tx:
        entries = PrivacyRepository(tx).audit_entries()

    assert [(e.actor, e.action) for e in entries] == [
        ("ben", "settings"),
        ("ben", "pause"),
        ("ben", "resume"),
        ("ben", "close"),
        ("anna", "approve"),
        ("anna", "forget"),
        ("system", "purge"),
    ]
    assert entries[1].target == f"session:{session_id}"
    assert all("A case" not in str(e) for e in entries)


# --- escaping on the console -------------------------------------------------------------------


def test_terminal_escape_sequences_in_user_text_are_not_printed(harness: Harness) -> None:
    out = harness.type("/as ben", START, "/as anna", "A case\x1b[2J\x1b]0;pwned\x07 \x1b[31mred\r")

    assert "\x1b" not in out
    assert "\r" not in out
    assert "[5] anna: A case red" in out


def test_the_scheduler_purges_expired_sessions_on_its_own(harness: Harness) -> None:
    from bot.scheduler import register, run_retention, unregister

    _run_session(harness)
    harness.clock.advance(timedelta(days=31))
    register("retention-test", harness.services)
    try:
        assert run_retention("retention-test") == 1
    finally:
        unregister("retention-test")
    assert _session_ids(harness) == []
