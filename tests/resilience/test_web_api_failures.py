"""Resilience: a Web API that refuses and fails a share of calls changes nothing people see.

Slack answers HTTP 429 with ``Retry-After`` when the bot posts too fast and HTTP 500 now
and then; the bot waits and tries again, so every message still arrives once and in order.
"""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from tests.platform.slack.fake_slack import BOT_USER
from tests.resilience.conftest import CHANNEL, IMS_STEPS, OWNER, Scene, Thread
from tests.support.live import LiveBot

pytestmark = pytest.mark.resilience

RATE_429 = 0.2
RATE_500 = 0.1


def _posted(scene: Scene, thread: Thread, words: str) -> bool:
    return any(words in post for post in scene.thread_posts(thread))


def _hold_a_whole_session(scene: Scene, bot: LiveBot, thread: Thread) -> None:
    """At every step the case owner writes once and, once the step is posted, the
    facilitator moves on; the case owner approves the record at the end."""
    for step in range(1, IMS_STEPS + 1):
        scene.wait(partial(_posted, scene, thread, f"Step {step} of"), f"step {step} is posted")
        scene.reply(bot, thread, OWNER, f"What I take from step {step}.")
        scene.command(bot, "next")
    scene.wait(lambda: scene.db.status(thread.session_id) == "closed", "the session is closed")
    scene.command(bot, "approve", user=OWNER)
    scene.wait(lambda: _posted(scene, thread, "Record:"), "the record is posted")


def test_under_429_and_500_from_the_web_api_every_post_arrives_once_and_in_order(
    scene: Scene,
) -> None:
    bot = scene.launch()
    scene.fake.flaky(rate_429=RATE_429, rate_500=RATE_500, retry_after=1, seed=8)
    thread = scene.start_session(bot)

    _hold_a_whole_session(scene, bot, thread)

    posts = scene.thread_posts(thread)
    headings = [post.splitlines()[0] for post in posts if post.startswith(("*Step", "*Record"))]
    assert [post for post, times in Counter(posts).items() if times > 1] == []
    assert len(scene.fake.top_level(thread.channel)) == 1  # the anchor
    assert [heading.split(":")[0] for heading in headings] == [
        *(f"*Step {step} of {IMS_STEPS}" for step in range(1, IMS_STEPS + 1)),
        "*Record",
    ]


def test_a_rate_limited_channel_join_still_starts_the_session(scene: Scene) -> None:
    bot = scene.launch()
    scene.fake.channels[CHANNEL].members.discard(BOT_USER)  # the bot has to join first
    scene.fake.fail("conversations.join", status=429, retry_after=1)

    thread = scene.start_session(bot)

    scene.wait(lambda: _posted(scene, thread, "Step 1 of"), "step 1 is posted")
    assert len(scene.fake.top_level(CHANNEL)) == 1
