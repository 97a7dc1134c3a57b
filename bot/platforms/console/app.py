"""Console platform: read typed (or piped) lines, turn them into neutral events, print replies.

Syntax, one line at a time::

    /as anna                     type as anna from now on
    /intervision start ims owner=anna with=ben,clara
    some text                    a reply in the current session thread
    +:bulb: 3                    react with :bulb: to message 3 (``+:bulb:`` alone: the step post)
    -:bulb: 3                    take the reaction back
    /edit 5 new text             edit your message 5
    /delete 5                    delete your message 5
    /thread 1                    continue in the thread of message 1
    /dm some text                a direct message to the bot (= /intervision private some text)
    /later 2h                    let time pass (also 30m, 3d): deadlines and reminders fall due
    /quit

Scheduled work (deadlines, reminders, CoP preparation) runs in a background scheduler; it
and the typed lines take turns on ``lock``, so what they print never interleaves.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.config import Settings
from bot.events import (
    Command,
    InboundEvent,
    ReactionChanged,
    Reply,
    ReplyDeleted,
    ReplyEdited,
    Where,
)
from bot.handlers.context import Services
from bot.i18n import t
from bot.platforms.console.board import BOT_NAME, Board, clean
from bot.platforms.console.messenger import ConsoleMessenger
from bot.runtime.process import Runtime

WORKSPACE = "local"
CHANNEL = "console"
_REACTION = re.compile(r"^([+-]):([a-z0-9_+\-]+):\s*(\S+)?$")
_PRIVATE = re.compile(r"^(/intervision\s+(?:private|dm))\s.*", re.DOTALL)
_LATER = re.compile(r"^/later\s+(\d{1,4})\s*([mhd])$")


class ConsoleApp:
    """One terminal channel on the real use cases and storage."""

    def __init__(
        self, services: Services, board: Board, user: str = "me", *, interactive: bool = False
    ) -> None:
        self.services = services
        self.interactive = interactive
        self.board = board
        self.messenger = ConsoleMessenger(board)
        # The shared event path, run in this thread after each line: nothing to pace.
        self.runtime = Runtime(
            services, Settings(pace_seconds=0.0), {self.messenger.platform: self.messenger}
        )
        self.user = user
        self._ids = itertools.count(1)
        self.lock = threading.RLock()
        # Set by the composition for ``/later``: moves the clock on; runs what fell due.
        self.travel: Callable[[timedelta], None] | None = None
        self.run_due: Callable[[], object] | None = None
        self._restore()

    def _restore(self) -> None:
        """Pick up where an earlier run on the same database stopped: number after every
        stored message, and know the open session's thread, its posts and its replies."""
        with self.services.store.transaction() as tx:
            self.board.continue_after(tx.refs_in_channel("console", WORKSPACE, CHANNEL))
            sessions = tx.open_sessions_in("console", WORKSPACE, CHANNEL, lock=False)
            if not sessions:
                return
            session = sessions[0]  # the most recently started: the one the console shows
            anchor = tx.anchor_of(session.id)
            if anchor is None:
                return
            posts = tx.posts_of(session.id)
        self.board.remember(anchor, BOT_NAME, "", None)
        self.board.current_thread = anchor
        self.messenger.last_session_id = session.id
        for ref, kind, step_id in posts:
            self.board.remember(ref, BOT_NAME, "", anchor)
            if kind == "step" and step_id == session.current_step.id:
                self.board.last_step_post[anchor] = ref
        for reply in session.contributions:
            if reply.ref.isdecimal() and not reply.withdrawn:
                self.board.remember(reply.ref, reply.author, reply.text, anchor)

    def run(self, lines: Iterable[str], *, echo_commands: bool = True) -> None:
        """Feed every line until the end of input or ``/quit``."""
        for raw in lines:
            if not self.feed(raw.rstrip("\n"), echo_commands=echo_commands):
                break

    def feed(self, line: str, *, echo_commands: bool = True) -> bool:
        """Handle one typed line; False when the user asked to quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line in ("/quit", "/exit"):
            return False
        if echo_commands and line.startswith(("/intervision", "/edit", "/delete", "+:", "-:")):
            self.board.out.write(f"{clean(self.user)}> {clean(_echoed(line))}\n")
        with self.lock:
            if line.startswith("/later"):
                self._later(line)
                return True
            event = self._event_for(line)
            if event is not None:
                self.runtime.ingress.accept(event)
                self.flush()
        return True

    def flush(self) -> None:
        """Apply what the inbox holds and print everything the outbox holds for the console."""
        with self.lock:
            self.runtime.settle()

    def _later(self, line: str) -> None:
        """``/later 2h``: move the clock on and run the work that fell due."""
        match = _LATER.match(line)
        if match is None or self.travel is None:
            self.board.note(t("console.help", self._language()))
            return
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount)}.get(
            unit, timedelta(days=amount)
        )
        self.travel(delta)
        now = self.services.clock().strftime("%Y-%m-%d %H:%M UTC")
        self.board.note(t("console.later", self._language(), now=now))
        if self.run_due is not None:
            self.run_due()
        self.flush()

    def _event_for(self, line: str) -> InboundEvent | None:
        now = self.services.clock()
        if line.startswith("/as "):
            self.user = line[4:].strip().lstrip("@") or self.user
            if self.interactive:
                self.board.note(t("console.typing_as", self._language(), user=self.user))
            return None
        if line.startswith("/intervision"):
            return Command(
                self._id(), self._where(), self.user, line[len("/intervision") :].strip(), now
            )
        if line.startswith(("/edit ", "/delete ")):
            return self._edit_or_delete(line, now)
        if line.startswith("/thread "):
            ref = line.split()[1]
            if ref in self.board.lines:
                self.board.current_thread = self.board.lines[ref].thread or ref
            return None
        reaction = _REACTION.match(line)
        if reaction:
            return self._reaction(*reaction.groups(), now=now)
        if line.startswith("/dm "):  # a direct message to the bot: a private contribution
            text = f"private {line[4:].strip()}"
            return Command(self._id(), self._where(), self.user, text, now)
        if line.startswith("/"):
            self.board.note(t("console.help", self._language()))
            return None
        posted = self.board.add(self.user, line, self.board.current_thread)
        if posted.thread is None:
            return None
        return Reply(self._id(), self._where(), self.user, posted.ref, line, now)

    def _edit_or_delete(self, line: str, now: datetime) -> InboundEvent | None:
        command, _, rest = line.partition(" ")
        ref, _, text = rest.strip().partition(" ")
        target = self.board.lines.get(ref)
        if target is None or target.author != self.user:
            self.board.note(t("console.not_yours", self._language(), ref=ref))
            return None
        where = self._where(target.thread)
        if command == "/delete":
            del self.board.lines[ref]
            self.board.note(t("console.deleted", self._language(), ref=ref))
            return ReplyDeleted(self._id(), where, self.user, ref, now)
        self.board.replace(ref, text)
        return ReplyEdited(self._id(), where, self.user, ref, text, now)

    def _reaction(
        self, sign: str, emoji: str, ref: str | None, *, now: datetime
    ) -> InboundEvent | None:
        thread = self.board.current_thread
        target = ref if ref and ref != "step" else self.board.last_step_post.get(thread or "")
        if target is None or target not in self.board.lines:
            self.board.note(t("console.no_message", self._language(), ref=ref or "?"))
            return None
        key = "console.reacted" if sign == "+" else "console.unreacted"
        self.board.note(t(key, self._language(), user=self.user, emoji=emoji, ref=target))
        return ReactionChanged(
            self._id(), self._where(), self.user, target, emoji, sign == "+", now
        )

    def _where(self, thread: str | None = None) -> Where:
        return Where("console", WORKSPACE, CHANNEL, thread or self.board.current_thread)

    def _id(self) -> str:
        return f"console-{self.services.new_id()}-{next(self._ids)}"

    def _language(self) -> str:
        return self.services.language


def _echoed(line: str) -> str:
    """A typed line as the channel shows it: a private contribution's text is not shown."""
    return _PRIVATE.sub(r"\1 …", line)
