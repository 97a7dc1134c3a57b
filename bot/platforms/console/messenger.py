"""Console platform: renders neutral messages as terminal text (the console's Messenger)."""

from __future__ import annotations

from bot.i18n import t
from bot.messages import AnchorView, DirectMessage, PrivateNotice, StepPost, ThreadNote
from bot.platforms.console.board import BOT_NAME, Board
from bot.ports import Delivery, Posted


class ConsoleMessenger:
    platform = "console"

    def __init__(self, board: Board) -> None:
        self.board = board
        self.last_session_id = ""

    def deliver(self, delivery: Delivery) -> Posted:
        """Print the message (a terminal line takes any length: always one part)."""
        return Posted(self._print(delivery))

    def _print(self, delivery: Delivery) -> str | None:
        message = delivery.message
        if isinstance(message, AnchorView):
            return self._anchor(message, delivery.thread)
        if isinstance(message, StepPost):
            line = self.board.add(BOT_NAME, render_step(message), delivery.thread)
            if delivery.thread:
                self.board.last_step_post[delivery.thread] = line.ref
            return line.ref
        if isinstance(message, ThreadNote):
            return self.board.add(BOT_NAME, message.text, delivery.thread).ref
        if isinstance(message, PrivateNotice):
            self.board.private(message.user, message.text, message.thread)
            return None
        assert isinstance(message, DirectMessage)
        self.board.direct(message.user, message.text)
        return None

    def _anchor(self, message: AnchorView, anchor_ref: str | None) -> str | None:
        text = render_anchor(message)
        if message.update and anchor_ref:
            self.board.replace(anchor_ref, text)
            return anchor_ref
        line = self.board.add(BOT_NAME, text, None)
        self.board.current_thread = line.ref
        self.last_session_id = message.session_id
        return line.ref


def render_anchor(view: AnchorView) -> str:
    lang = view.language
    filled = "■" * view.step_number + "□" * (view.step_count - view.step_number)
    progress = t("anchor.progress", lang, number=view.step_number, count=view.step_count)
    lines = [
        t("anchor.title", lang, method=view.method_name),
        t("anchor.people", lang, owner=view.case_owner, facilitator=view.facilitator),
        f"{filled} {progress}: {view.step_title} ({t(f'status.{view.status}', lang)})",
    ]
    if view.deadline:
        lines.append(
            t("anchor.deadline", lang, deadline=view.deadline.strftime("%Y-%m-%d %H:%M UTC"))
        )
    return "\n".join(lines)


def render_step(post: StepPost) -> str:
    lang = post.language
    lines = [
        f"{t('anchor.progress', lang, number=post.number, count=post.count)}: {post.title}",
        post.instruction,
        post.speakers,
    ]
    if post.listeners:
        lines.append(post.listeners)
    lines.append(post.input_hint)
    lines.extend(f"{link.title}: {link.url}" for link in post.media)
    if post.deadline:
        lines.append(
            t("anchor.deadline", lang, deadline=post.deadline.strftime("%Y-%m-%d %H:%M UTC"))
        )
    lines.append(t("console.buttons", lang))
    return "\n".join(lines)
