"""Integration: sessions, groups and inbound event ids kept in the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.flows import session as flow
from bot.flows.session import Reaction, Session, Status, Vote
from storage.models import NaiveDatetimeError
from storage.repositories import Group, NotFoundError, Store


def _add(store: Store, session: Session, group: Group) -> None:
    with store.transaction() as tx:
        tx.add_session(session, group.id)


def _load(store: Store, session_id: str = "s1") -> Session | None:
    with store.transaction() as tx:
        return tx.get_session(session_id)


def _save(store: Store, session: Session) -> None:
    with store.transaction() as tx:
        tx.save_session(session)


# Sessions


def test_a_new_session_round_trips(
    store: Store, group: Group, new_session: Callable[..., Session]
) -> None:
    session = new_session()

    _add(store, session, group)

    assert _load(store) == session


def test_a_whole_session_saved_once_at_the_end_round_trips(
    store: Store, group: Group, new_session: Callable[..., Session], played: Session
) -> None:
    _add(store, new_session(), group)

    _save(store, played)

    assert _load(store) == played


def test_a_session_saved_after_every_change_stays_equal_to_the_flow(
    store: Store,
    group: Group,
    new_session: Callable[..., Session],
    transitions: list[Callable[[Session], Session]],
) -> None:
    session = new_session()
    _add(store, session, group)

    for change in transitions:
        loaded = _load(store)
        assert loaded is not None
        session = change(loaded)
        _save(store, session)
        assert _load(store) == session


def test_a_session_added_with_all_its_parts_round_trips(
    store: Store, group: Group, played: Session
) -> None:
    _add(store, played, group)

    assert _load(store) == played


def test_a_withdrawn_contribution_is_kept_as_withdrawn(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    session = flow.contribute(new_session(), author="ana", ref="m1", text="case", now=t0).session
    _add(store, session, group)

    _save(store, flow.withdraw(session, user="ana", ref="m1").session)

    loaded = _load(store)
    assert loaded is not None
    assert loaded.contribution("m1") is not None
    assert loaded.contribution("m1").withdrawn  # type: ignore[union-attr]


def test_an_edited_contribution_keeps_its_new_text_and_edit_time(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    session = flow.contribute(new_session(), author="ana", ref="m1", text="first", now=t0).session
    _add(store, session, group)
    later = t0 + timedelta(minutes=5)

    _save(store, flow.edit(session, editor="ana", ref="m1", text="second", now=later).session)

    loaded = _load(store)
    assert loaded is not None
    assert (loaded.contributions[0].text, loaded.contributions[0].edited_at) == ("second", later)


def test_a_removed_reaction_is_gone_after_saving(
    store: Store, group: Group, new_session: Callable[..., Session]
) -> None:
    session = new_session()
    reacted = flow.react(session, user="cem", step_id="account", target="p1", emoji="heart")
    reacted = flow.react(reacted.session, user="dee", step_id="account", target="p1", emoji="heart")
    _add(store, reacted.session, group)

    unreacted = flow.unreact(
        reacted.session, user="cem", step_id="account", target="p1", emoji="heart"
    ).session
    _save(store, unreacted)

    loaded = _load(store)
    assert loaded is not None
    assert loaded.reactions == frozenset({Reaction("account", "p1", "heart", "dee")})


def test_a_changed_vote_replaces_the_old_one_in_the_flows_order(
    store: Store, group: Group, new_session: Callable[..., Session]
) -> None:
    votes = (Vote("choose", "cem", "advice"), Vote("choose", "dee", "advice"))
    session = replace(new_session(), votes=votes)
    _add(store, session, group)

    changed = (Vote("choose", "dee", "advice"), Vote("choose", "cem", "brainstorm"))
    _save(store, replace(session, votes=changed))

    loaded = _load(store)
    assert loaded is not None
    assert loaded.votes == changed


def test_timestamps_come_back_in_utc_whatever_zone_they_were_given_in(
    store: Store, group: Group, new_session: Callable[..., Session]
) -> None:
    amsterdam_summer = timezone(timedelta(hours=2))
    started = datetime(2026, 6, 1, 11, 30, tzinfo=amsterdam_summer)

    _add(store, new_session(now=started), group)

    loaded = _load(store)
    assert loaded is not None
    assert loaded.started_at == started
    assert loaded.started_at.tzinfo == UTC
    assert loaded.current_run.deadline == started + timedelta(hours=12)


def test_a_naive_timestamp_is_refused(
    store: Store, group: Group, new_session: Callable[..., Session]
) -> None:
    with pytest.raises(NaiveDatetimeError):
        _add(store, new_session(now=datetime(2026, 6, 1, 11, 30)), group)

    assert _load(store) is None


def test_saving_a_session_that_was_never_added_is_refused(
    store: Store, new_session: Callable[..., Session]
) -> None:
    with pytest.raises(NotFoundError):
        _save(store, new_session())


def test_an_unknown_session_id_gives_none(store: Store) -> None:
    assert _load(store, "nope") is None


def test_a_failed_transaction_leaves_nothing_behind(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    def handler() -> None:
        with store.transaction() as tx:
            tx.claim_event("slack", "E1", t0)
            tx.add_session(new_session(), group.id)
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        handler()

    assert _load(store) is None
    with store.transaction() as tx:
        assert tx.claim_event("slack", "E1", t0)


# Finding a session from where something happened


def test_open_sessions_in_a_channel_are_listed_newest_first_without_closed_ones(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    older = new_session("older", now=t0)
    newer = new_session("newer", now=t0 + timedelta(hours=1))
    closed = replace(new_session("closed", now=t0 + timedelta(hours=2)), status=Status.CLOSED)
    for session in (older, newer, closed):
        _add(store, session, group)
    with store.transaction() as tx:
        elsewhere = tx.group("slack", "T1", "C2")
        tx.add_session(new_session("elsewhere"), elsewhere.id)

    with store.transaction() as tx:
        found = tx.open_sessions_in("slack", "T1", "C1")

    assert [s.id for s in found] == ["newer", "older"]


def test_a_thread_leads_to_the_session_whose_anchor_starts_it(
    store: Store, group: Group, new_session: Callable[..., Session]
) -> None:
    _add(store, new_session(), group)
    with store.transaction() as tx:
        tx.set_anchor("s1", "1700000000.000100")

    with store.transaction() as tx:
        found = tx.session_for_thread("slack", "T1", "C1", "1700000000.000100")
        other_channel = tx.session_for_thread("slack", "T1", "C2", "1700000000.000100")
        anchor = tx.anchor_of("s1")

    assert found is not None
    assert found.id == "s1"
    assert other_channel is None
    assert anchor == "1700000000.000100"


def test_a_message_leads_to_its_session_and_step(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    session = flow.contribute(new_session(), author="ana", ref="m1", text="case", now=t0).session
    _add(store, session, group)
    with store.transaction() as tx:
        tx.add_post("s1", "p0", "anchor", None)
        tx.add_post("s1", "p1", "step", "account")
        tx.add_post("s1", "p1", "step", "account")  # recorded twice: still one post

    with store.transaction() as tx:
        by_post = tx.session_for_message("slack", "T1", "C1", "p1")
        by_reply = tx.session_for_message("slack", "T1", "C1", "m1")
        by_anchor = tx.session_for_message("slack", "T1", "C1", "p0")
        elsewhere = tx.session_for_message("slack", "T1", "C2", "p1")
        step = tx.step_of_post("s1", "p1")

    assert by_post is not None
    assert by_reply is not None
    assert (by_post[0].id, by_post[1]) == ("s1", "account")
    assert (by_reply[0].id, by_reply[1]) == ("s1", "account")
    assert by_anchor is None
    assert elsewhere is None
    assert step == "account"


# Groups


def test_a_channel_gets_one_group_with_the_defaults_it_was_first_given(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.group("teams", "tenant", "general", language="de", timezone="Europe/Berlin")
    with store.transaction() as tx:
        again = tx.group("teams", "tenant", "general", language="nl")

    assert again == first
    assert (first.language, first.timezone, first.settings) == ("de", "Europe/Berlin", {})


def test_a_group_changes_only_what_is_updated(store: Store, group: Group) -> None:
    with store.transaction() as tx:
        tx.update_group(group.id, language="nl")
        updated = tx.update_group(group.id, settings={"reminders": False})

    assert (updated.language, updated.timezone) == ("nl", group.timezone)
    assert updated.settings == {"reminders": False}


def test_the_group_of_a_session_is_found(
    store: Store, group: Group, new_session: Callable[..., Session]
) -> None:
    _add(store, new_session(), group)

    with store.transaction() as tx:
        assert tx.group_of_session("s1") == group


# Inbound events


def test_an_event_is_claimed_once(store: Store, t0: datetime) -> None:
    with store.transaction() as tx:
        first = tx.claim_event("slack", "Ev1", t0)
    with store.transaction() as tx:
        second = tx.claim_event("slack", "Ev1", t0)
        other_platform = tx.claim_event("teams", "Ev1", t0)

    assert (first, second, other_platform) == (True, False, True)
