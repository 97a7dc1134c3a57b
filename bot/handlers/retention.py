"""Use cases: retention and a person's rights over what they wrote.

- ``purge_expired(services, now)``: deletes every session closed longer ago than its group's
  retention period (default 30 days): case texts, contributions, reactions, votes, the
  bot's posts and queued copies of its messages. A ``session_summaries`` row keeps the
  counts (method, mode, dates, participants, contributions) for the CoP digest. Copies of
  messages already delivered are dropped after a day. Meant to run daily (the scheduler)
  and from the command line (``intervision purge``); running it twice changes nothing.
- ``/intervision forget``: says what would be deleted; ``/intervision forget confirm``
  deletes everything the person wrote in this workspace (contributions, reactions, votes).
- ``/intervision my-data``: a direct message with everything the person wrote here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.events import Command
from bot.handlers.context import Context, Services
from bot.handlers.present_privacy import my_data
from bot.handlers.privacy import audit, privacy_of
from bot.i18n import t
from bot.messages import Outbound, PrivateNotice
from storage.privacy_repository import PrivacyRepository

SENT_MESSAGES_KEPT = timedelta(days=1)
MIN_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class PurgeReport:
    """What one purge removed: sessions (by id) and delivered message copies."""

    sessions: tuple[str, ...] = ()
    messages: int = 0

    def __str__(self) -> str:
        return f"purged {len(self.sessions)} session(s) and {self.messages} sent message copies"


def purge_expired(services: Services, now: datetime | None = None) -> PurgeReport:
    """Delete what the groups' retention periods no longer allow us to keep (see module doc)."""
    moment = now or services.clock()
    with services.store.transaction() as tx:
        repo = PrivacyRepository(tx)
        expired = [
            candidate.session_id
            for candidate in repo.closed_sessions(moment - MIN_RETENTION)
            if candidate.closed_at + timedelta(days=privacy_of(candidate.settings).retention_days)
            <= moment
        ]
        for session_id in expired:
            repo.purge_session(session_id, now=moment)
        messages = repo.purge_sent_messages(moment - SENT_MESSAGES_KEPT)
        report = PurgeReport(tuple(expired), messages)
        if expired or messages:
            repo.audit(
                at=moment,
                actor="system",
                action="purge",
                detail={"sessions": len(expired), "messages": messages},
            )
    return report


def forget_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``forget``: what would go; ``forget confirm``: delete what the person wrote here."""
    where = event.where
    repo = PrivacyRepository(ctx.tx)
    if [w.lower() for w in words] != ["confirm"]:
        written = repo.written_by(where.platform, where.workspace, event.user)
        sessions = len({item.session_id for item in written})
        text = t("forget.confirm", ctx.language, count=len(written), sessions=sessions)
        return [PrivateNotice(event.user, text, ctx.thread)]
    gone = repo.forget(where.platform, where.workspace, event.user)
    audit(
        ctx,
        where,
        event.user,
        "forget",
        f"user:{event.user}",
        contributions=gone.contributions,
        reactions=gone.reactions,
        votes=gone.votes,
    )
    text = t(
        "forget.done",
        ctx.language,
        contributions=gone.contributions,
        reactions=gone.reactions,
        votes=gone.votes,
    )
    return [PrivateNotice(event.user, text, ctx.thread)]


def my_data_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``my-data``: everything the person wrote in this workspace, by direct message."""
    where = event.where
    items = PrivacyRepository(ctx.tx).written_by(where.platform, where.workspace, event.user)
    return [
        my_data(event.user, items, ctx.language),
        PrivateNotice(event.user, t("my_data.sent", ctx.language), ctx.thread),
    ]
