"""A whole session typed into the console platform, on the real use cases and SQLite."""

from __future__ import annotations

from bot.flows.record import build_record
from bot.records import render_markdown
from tests.support.app import Harness

START_IMS = "/intervision start ims owner=anna with=clara,david"


def _session(harness: Harness):
    with harness.services.store.transaction() as tx:
        sessions = tx.open_sessions_in("console", "local", "console")
        return sessions[0] if sessions else None


def test_start_posts_the_anchor_and_the_first_step(harness: Harness) -> None:
    out = harness.type("/as ben", START_IMS)
    assert "Intervision: IMS" in out or "Intervision:" in out
    assert "Step 1 of 6" in out


def test_a_reply_in_the_thread_becomes_a_contribution(harness: Harness) -> None:
    harness.type("/as ben", START_IMS, "/as anna", "My pseudonymised case about 'K.'")
    session = _session(harness)
    assert [c.text for c in session.contributions] == ["My pseudonymised case about 'K.'"]


def test_only_the_facilitator_moves_the_session_on(harness: Harness) -> None:
    out = harness.type("/as ben", START_IMS, "/as clara", "/intervision next")
    assert "(only clara) Only the facilitator (ben) can do this." in out
    assert _session(harness).step_number == 1


def test_next_walks_every_step_and_closes_with_the_record(harness: Harness) -> None:
    harness.type("/as ben", START_IMS)
    for _ in range(6):
        harness.type("/intervision next")
    out = harness.transcript
    for number in range(1, 7):
        assert f"Step {number} of 6" in out
    assert "# Record: IMS" in out
    assert _session(harness) is None


def test_unknown_subcommand_gets_the_help_text_in_the_users_language(tmp_path) -> None:
    from tests.support.app import make_harness

    german = make_harness(tmp_path, language="de")
    out = german.type("/as ben", "/intervision frobnicate")
    assert "Diesen Befehl kenne ich nicht: 'frobnicate'." in out
    assert "So funktioniert intervision-bot" in out


def test_reactions_are_tallied_with_their_meaning_in_the_record(harness: Harness) -> None:
    harness.type(
        "/as ben",
        "/intervision start moed-en-lef owner=anna with=clara,david lang=nl",
    )
    session = _session(harness)
    reaction_step = next(s for s in session.method.steps if s.input.value == "reactions")
    while _session(harness).current_step.id != reaction_step.id:
        harness.type("/as ben", "/intervision next")
    harness.type("/as clara", "+:fearful:", "/as david", "+:fearful:", "/as clara", "+:worried:")
    harness.type("/as anna", "+:thinking_face:")  # three people took part: the tally is shown
    record = render_markdown(build_record(_session(harness)))
    assert ":fearful: (angst): 2" in record
    assert ":worried: (zorgen): 1" in record


def test_an_edit_replaces_and_a_delete_withdraws_the_contribution(harness: Harness) -> None:
    harness.type("/as ben", START_IMS, "/as anna", "first words", "second words")
    harness.type("/edit 4 first words, better", "/delete 5")
    texts = [c.text for c in _session(harness).contributions if not c.withdrawn]
    assert texts == ["first words, better"]


def test_piped_script_runs_to_the_record(harness: Harness) -> None:
    script = """
    # a comment line is ignored
    /as ben
    /intervision start kollegiale-beratung owner=anna with=clara,david,eva,fred mode=async
    /as anna
    The case, pseudonymised.
    """
    out = harness.type(*script.strip().splitlines())
    assert "Step 1 of" in out
    assert "Deadline:" in out  # asynchronous steps carry a deadline
