"""Resilience: ``kill -9`` of the web process, then a restart, loses and doubles nothing.

Slack resends an event only when it got no 2xx answer; so a reply answered 2xx must
survive any crash, and a resend must not be stored twice. A message in several parts that
was being posted when the process died goes on at the next part after the restart.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from tests.resilience.conftest import EACH_ONCE, IMS_STEPS, OWNER, PEOPLE, Scene, Thread, stored
from tests.support.live import LiveBot, Response

pytestmark = pytest.mark.resilience

BURSTS = 3
REPLIES_PER_BURST = 40
SENDERS = 4  # people replying at the same time
KILL_AFTER = REPLIES_PER_BURST // 3  # answered replies in a burst before the kill

RECORD_REPLIES = 28  # long enough for a record of about six messages
KILL_AT_PART = 3
MARKER = re.compile(r"marker-\d\d")


def _burst_with_a_kill(
    scene: Scene, bot: LiveBot, messages: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Send the replies from ``SENDERS`` threads; once ``KILL_AFTER`` of them were answered
    2xx, ``kill -9`` the process. Returns the replies that got no 2xx (event id -> message)."""
    answered = 0
    lock = threading.Lock()

    def send(event_id: str) -> Response:
        nonlocal answered
        response = scene.deliver(bot, messages[event_id], event_id)
        with lock:
            answered += response.ok
            if answered == KILL_AFTER:
                bot.kill()
        return response

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        answers = dict(zip(messages, pool.map(send, messages), strict=True))
    return {event_id: messages[event_id] for event_id, answer in answers.items() if not answer.ok}


def test_kill_9_during_bursts_of_replies_loses_none_answered_2xx_and_doubles_none(
    scene: Scene,
) -> None:
    bot = scene.launch()
    thread = scene.start_session(bot)
    sent: list[dict[str, Any]] = []

    for _ in range(BURSTS):
        messages = scene.replies(thread, REPLIES_PER_BURST)
        sent.extend(messages.values())
        unanswered = _burst_with_a_kill(scene, bot, messages)
        assert bot.process is None, "the process was not killed during the burst"
        bot.restart()
        for event_id, message in unanswered.items():  # Slack resends what got no 2xx
            response = scene.deliver_until_answered(bot, message, event_id)
            assert response.ok, f"a resend was answered {response.status}"

    assert stored(scene.settled(bot, thread, sent), sent) == EACH_ONCE


# --- a message in several parts -----------------------------------------------------------------


def _long_reply(number: int) -> str:
    line = "Looked at once more from where the others in the room stood that afternoon."
    return "\n".join([f"marker-{number:02d}"] + [line] * 30)


def _at_step(scene: Scene, thread: Thread, step: int) -> bool:
    return scene.db.step(thread.session_id) == step


def _run_to_the_end(scene: Scene, bot: LiveBot, thread: Thread) -> None:
    """The facilitator moves through every step and closes the session."""
    for step in range(2, IMS_STEPS + 1):
        scene.command(bot, "next")
        scene.wait(partial(_at_step, scene, thread, step), f"the session is at step {step}")
    scene.command(bot, "next")
    scene.wait(lambda: scene.db.status(thread.session_id) == "closed", "the session is closed")


def _record_parts(scene: Scene, thread: Thread) -> list[str]:
    return [post for post in scene.thread_posts(thread) if MARKER.search(post)]


def test_kill_9_while_a_record_in_several_parts_is_posted_posts_no_part_twice(
    scene: Scene,
) -> None:
    bot = scene.launch()
    thread = scene.start_session(bot)
    for number in range(RECORD_REPLIES):
        scene.reply(bot, thread, PEOPLE[number % 3], _long_reply(number))
    _run_to_the_end(scene, bot, thread)

    killed = threading.Event()
    parts_asked = 0

    def kill_at_a_later_part(method: str, params: dict[str, Any]) -> bool:
        """``kill -9`` the bot when it asks to post the third part (that part is dropped)."""
        nonlocal parts_asked
        in_thread = params.get("channel") == thread.channel
        in_thread = in_thread and params.get("thread_ts") == thread.anchor
        is_part = method == "chat.postMessage" and in_thread
        if killed.is_set() or not (is_part and MARKER.search(json.dumps(params.get("blocks")))):
            return False
        parts_asked += 1
        if parts_asked < KILL_AT_PART:
            return False
        bot.kill()
        killed.set()
        return True

    scene.fake.intercept = kill_at_a_later_part
    scene.command(bot, "approve", user=OWNER)
    scene.wait(killed.is_set, f"the bot asks to post part {KILL_AT_PART} of the record")
    bot.restart()

    expected = {f"marker-{number:02d}" for number in range(RECORD_REPLIES)}
    scene.wait(
        lambda: expected <= set(MARKER.findall("\n".join(_record_parts(scene, thread)))),
        "every part of the record is posted after the restart",
    )
    parts = _record_parts(scene, thread)
    shown = Counter(MARKER.findall("\n".join(parts)))
    assert len(parts) > KILL_AT_PART, "the record was not long enough to test parts"
    twice = sorted(marker for marker, times in shown.items() if times > 1)
    assert twice == [], f"parts posted twice: they show {len(twice)} contributions again"
