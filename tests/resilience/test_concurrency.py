"""Resilience: people acting at the same moment, and Slack delivering the same event again.

Every reply answered 2xx is stored once, whether twenty arrive at the same instant, two web
processes share the database, or Slack delivers one event three times at once; slash
commands are answered within Slack's three seconds however many arrive together.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from tests.resilience.conftest import (
    EACH_ONCE,
    IMS_STEPS,
    START,
    Scene,
    add_people,
    at_once,
    stored,
)
from tests.support.live import Response

pytestmark = pytest.mark.resilience

AT_ONCE = 20
TWO_PROCESS_REPLIES = 30
COPIES = 3
TRIPLED_REPLIES = 10
SLACK_ACK_SECONDS = 3.0  # Slack shows the person an error when the answer takes longer
CHANNELS = [f"C{number:07d}" for number in range(100, 100 + AT_ONCE)]


def test_twenty_replies_at_the_same_instant_to_one_session_are_all_stored(
    any_scene: Scene,
) -> None:
    scene = any_scene
    bot = scene.launch()
    thread = scene.start_session(bot)
    replies = scene.replies(thread, AT_ONCE)

    answers = at_once(
        [partial(scene.deliver_until_answered, bot, m, eid) for eid, m in replies.items()]
    )

    assert [answer.status for answer in answers if not answer.ok] == []
    sent = list(replies.values())
    assert stored(scene.settled(bot, thread, sent), sent) == EACH_ONCE


@pytest.mark.postgres
def test_two_web_processes_on_one_database_store_every_reply_and_move_one_step(
    pg_scene: Scene,
) -> None:
    scene = pg_scene
    bots = [scene.launch(), scene.launch()]
    thread = scene.start_session(bots[0])
    replies = list(scene.replies(thread, TWO_PROCESS_REPLIES).items())

    def send(index: int) -> Response:  # the replies alternate between the two processes
        event_id, message = replies[index]
        return scene.deliver_until_answered(bots[index % 2], message, event_id)

    half = len(replies) // 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.map(send, range(half))
        moved = scene.command(bots[1], "next")  # while the first half is on its way
        second = pool.map(send, range(half, len(replies)))
        answers = [*first, *second]

    assert [answer.status for answer in [*answers, moved] if not answer.ok] == []
    sent = [message for _, message in replies]
    assert stored(scene.settled(bots[0], thread, sent), sent) == EACH_ONCE
    assert scene.db.step(thread.session_id) == 2
    step_two = [post for post in scene.thread_posts(thread) if f"Step 2 of {IMS_STEPS}" in post]
    assert len(step_two) == 1


def test_an_event_delivered_three_times_at_once_is_recorded_once(scene: Scene) -> None:
    bot = scene.launch()
    thread = scene.start_session(bot)
    replies = scene.replies(thread, TRIPLED_REPLIES)

    at_once(
        [
            partial(scene.deliver, bot, message, event_id, retry)
            for event_id, message in replies.items()
            for retry in range(COPIES)  # the first delivery and two resends of it
        ]
    )

    sent = list(replies.values())
    assert stored(scene.settled(bot, thread, sent), sent) == EACH_ONCE


def _start_in_every_channel(scene: Scene) -> list[Response]:
    """The facilitator starts a session in each of twenty channels at the same instant."""
    for channel in CHANNELS:
        add_people(scene.fake, channel)
    bot = scene.launch()
    return at_once(
        [partial(scene.command, bot, START, channel=channel, timeout=10) for channel in CHANNELS]
    )


def test_twenty_slash_commands_at_once_are_each_answered_within_three_seconds(
    scene: Scene,
) -> None:
    answers = _start_in_every_channel(scene)

    late_or_failed = [
        (answer.status, round(answer.seconds, 2))
        for answer in answers
        if not answer.ok or answer.seconds >= SLACK_ACK_SECONDS
    ]
    assert late_or_failed == []


def test_twenty_sessions_started_at_once_in_twenty_channels_all_start(scene: Scene) -> None:
    _start_in_every_channel(scene)

    def started() -> list[str]:
        return [c for c in CHANNELS if scene.db.sessions_in(c) and scene.anchor_in(c)]

    scene.eventually(lambda: len(started()) == AT_ONCE)
    assert len(started()) == AT_ONCE
