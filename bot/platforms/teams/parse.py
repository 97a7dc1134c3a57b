"""Teams adapter, inbound: pure functions from Bot Framework activities to neutral events.

Nothing here does I/O. An activity is the JSON the Bot Connector posts to
``/api/messages`` (camelCase keys); one the bot has no business with (the bot's own
posts, a channel post that does not address the bot, an unknown type) gives no event.

Where an event happened: ``workspace`` is the tenant, ``channel`` the channel's
``19:…@thread.tacv2`` id (a 1:1 chat's ``a:…`` id), ``thread`` the root post of the
reply chain (Teams puts it in the conversation id after ``;messageid=``). People are
their Bot Framework ids (``29:…``): what mentions carry and what a 1:1 chat is opened
with.

Event ids are stable across the Bot Connector's retries (the activity id, with the
edit's time for edits, since an edited message keeps its id).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any

from bot.events import (
    ButtonPressed,
    Command,
    InboundEvent,
    ReactionChanged,
    Reply,
    ReplyDeleted,
    ReplyEdited,
    StartSubmitted,
    Where,
)
from bot.i18n import LANGUAGES
from bot.platforms.payload import id_of, obj, text_of
from bot.platforms.teams.ids import (
    ACTION_KEY,
    CARD_ACTION_INVOKE,
    CHOICE_KEY,
    MAX_CHOICES,
    OFFERED_KEY,
    PLATFORM,
    REACT_VERB,
    SESSION_KEY,
    START_VERB,
    VERBS,
)
from bot.start_form import FormError, FormField, start_form_errors, start_request

Activity = Mapping[str, Any]

MAX_EMOJI_LENGTH = 100
MAX_FORM_TEXT = 20_000  # an input of the start form (the participants: many ids)
HANDLED_TYPES = frozenset(
    {"message", "messageReaction", "messageUpdate", "messageDelete", "invoke"}
)
"""Activity types the bot reads; the endpoint answers every other type 200 at once (the
SDK would answer a type it does not know with 500, and Teams sends new ones)."""

COMMAND_WORDS = frozenset({"/intervision", "@intervision"})
"""A message that begins with one of these is a command: the bot's texts write commands as
``/intervision approve …`` (Slack's slash command), and the name may be typed without
picking the mention."""

_EPOCH = datetime.fromtimestamp(0, UTC)
_BOT = "\x00bot\x00"


@dataclass(frozen=True)
class Person:
    """Someone an activity names: their Bot Framework id, Entra object id and name."""

    user: str
    aad_object_id: str
    name: str


def at(value: Any) -> datetime:
    """An activity ``timestamp`` (ISO 8601, ``Z`` or an offset) as aware UTC; else the epoch."""
    try:
        moment = datetime.fromisoformat(text_of(value).replace("Z", "+00:00"))
    except ValueError:
        return _EPOCH
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def language_of(activity: Activity) -> str | None:
    """The language of the activity's locale (``de-CH`` -> ``de``) when we speak it."""
    short = text_of(activity.get("locale")).replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else None


def service_url_of(activity: Activity) -> str:
    return text_of(activity.get("serviceUrl"))


def bot_id_of(activity: Activity) -> str:
    return id_of(obj(activity.get("recipient")).get("id"))


def where_of(activity: Activity) -> Where | None:
    """Tenant, channel and thread root of the activity, or None without them."""
    conversation = obj(activity.get("conversation"))
    data = obj(activity.get("channelData"))
    tenant = id_of(conversation.get("tenantId")) or id_of(obj(data.get("tenant")).get("id"))
    conversation_id, _, root = text_of(conversation.get("id")).partition(";messageid=")
    channel = id_of(obj(data.get("channel")).get("id")) or id_of(conversation_id)
    if not (tenant and channel):
        return None
    thread = id_of(root) or None
    if thread is not None and thread == id_of(activity.get("id")):
        thread = None  # a new post: its own root, not a reply in a thread
    return Where(PLATFORM, tenant, channel, thread)


def user_of(activity: Activity) -> str:
    return id_of(obj(activity.get("from")).get("id"))


def people_of(activity: Activity) -> list[Person]:
    """The sender and everyone mentioned (not the bot), for the directory of names."""
    bot = bot_id_of(activity)
    found: list[Person] = []
    sender = obj(activity.get("from"))
    candidates = [sender, *(obj(obj(e).get("mentioned")) for e in _mentions(activity))]
    for account in candidates:
        user = id_of(account.get("id"))
        if user and user != bot and all(p.user != user for p in found):
            aad = id_of(account.get("aadObjectId"))
            found.append(Person(user, aad, text_of(account.get("name"))[:200]))
    return found


def _mentions(activity: Activity) -> Iterator[Mapping[str, Any]]:
    entities = activity.get("entities")
    for entity in entities if isinstance(entities, list) else []:
        if obj(entity).get("type") == "mention":
            yield obj(entity)


class _Plain(HTMLParser):
    """The text of Teams' message HTML, paragraphs and line breaks as new lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li") and self.parts:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(activity: Activity) -> tuple[str, bool]:
    """The activity's words with mentions as people's ids and the bot's mention removed,
    and whether the text began by addressing the bot."""
    text = text_of(activity.get("text"))
    bot = bot_id_of(activity)
    for entity in _mentions(activity):
        shown = text_of(entity.get("text"))
        mentioned = id_of(obj(entity.get("mentioned")).get("id"))
        if shown and mentioned:
            text = text.replace(shown, _BOT if mentioned == bot else mentioned, 1)
    if "<" in text or "&" in text:
        parser = _Plain()
        parser.feed(text)
        parser.close()
        text = unescape("".join(parser.parts))
    addressed = text.lstrip().startswith(_BOT)
    lines = [" ".join(line.split()) for line in text.replace(_BOT, " ").split("\n")]
    text = "\n".join(line for line in lines if line)
    first, _, rest = text.partition(" ")
    if first.lower() in COMMAND_WORDS:  # typed as the bot's texts show commands
        return rest, True
    return text, addressed


# --- activities --------------------------------------------------------------------------------


def parse_activity(activity: Activity) -> list[InboundEvent]:
    """The neutral events of one activity (usually one; a reaction activity may carry
    several reactions; none when it is not the bot's business)."""
    kind = activity.get("type")
    activity_id = id_of(activity.get("id"))
    where = where_of(activity)
    user = user_of(activity)
    if kind not in HANDLED_TYPES or not (activity_id and where and user):
        return []
    if user == bot_id_of(activity) or obj(activity.get("from")).get("role") == "bot":
        return []
    if kind == "message":
        value = activity.get("value")
        if isinstance(value, Mapping) and not text_of(activity.get("text")):
            return _card_action(activity, value, f"submit:{activity_id}", where, user)
        event = _message(activity, activity_id, where, user)
        return [event] if event is not None else []
    if kind == "invoke":
        if activity.get("name") != CARD_ACTION_INVOKE:
            return []
        data = obj(obj(obj(activity.get("value")).get("action")).get("data"))
        return _card_action(activity, data, f"invoke:{activity_id}", where, user)
    if kind == "messageUpdate":
        edited = _edited(activity, activity_id, where, user)
        return [edited] if edited is not None else []
    if kind == "messageDelete":
        return [_deleted(activity, activity_id, where, user)] if where.thread else []
    return list(_reactions(activity, activity_id, where, user))


def _message(activity: Activity, activity_id: str, where: Where, user: str) -> InboundEvent | None:
    text, addressed = plain_text(activity)
    moment = at(activity.get("timestamp"))
    personal = obj(activity.get("conversation")).get("conversationType") == "personal"
    if addressed or personal:  # in a 1:1 chat everything is said to the bot
        return Command(
            event_id=f"message:{activity_id}",
            where=where,
            user=user,
            text=text,
            at=moment,
            language=language_of(activity),
        )
    if where.thread is None:
        return None  # a channel post that does not address the bot
    return Reply(
        event_id=f"message:{activity_id}",
        where=where,
        user=user,
        ref=activity_id,
        text=text,
        at=moment,
    )


def _edited(activity: Activity, activity_id: str, where: Where, user: str) -> ReplyEdited | None:
    if where.thread is None or obj(activity.get("channelData")).get("eventType") not in (
        None,
        "editMessage",
    ):
        return None
    text, _ = plain_text(activity)
    stamp = text_of(activity.get("timestamp"))[:40]
    return ReplyEdited(
        event_id=f"update:{activity_id}:{stamp}",
        where=where,
        user=user,
        ref=activity_id,
        text=text,
        at=at(activity.get("timestamp")),
    )


def _deleted(activity: Activity, activity_id: str, where: Where, user: str) -> ReplyDeleted:
    return ReplyDeleted(
        event_id=f"delete:{activity_id}",
        where=where,
        user=user,
        ref=activity_id,
        at=at(activity.get("timestamp")),
    )


def _reactions(
    activity: Activity, activity_id: str, where: Where, user: str
) -> Iterator[ReactionChanged]:
    target = id_of(activity.get("replyToId"))
    if not target:
        return
    for added, key in ((True, "reactionsAdded"), (False, "reactionsRemoved")):
        reactions = activity.get(key)
        for index, reaction in enumerate(reactions if isinstance(reactions, list) else []):
            emoji = text_of(obj(reaction).get("type"))
            if not emoji or len(emoji) > MAX_EMOJI_LENGTH or "\x00" in emoji:
                continue
            yield ReactionChanged(
                event_id=f"reaction:{activity_id}:{key}:{index}",
                where=where,
                user=user,
                target=target,
                emoji=emoji,
                added=added,
                at=at(activity.get("timestamp")),
            )


def _card_action(
    activity: Activity, data: Mapping[str, Any], event_id: str, where: Where, user: str
) -> list[InboundEvent]:
    """A card's button (Action.Submit or Action.Execute): a step button, or the reaction
    choice on a step card."""
    moment = at(activity.get("timestamp"))
    if text_of(data.get(ACTION_KEY)) == REACT_VERB:
        return list(_chosen_reactions(activity, data, event_id, where, user, moment))
    pressed = _button(data, event_id, where, user, moment)
    return [pressed] if pressed is not None else []


def _chosen_reactions(
    activity: Activity,
    data: Mapping[str, Any],
    event_id: str,
    where: Where,
    user: str,
    moment: datetime,
) -> Iterator[ReactionChanged]:
    """The reaction choice sent from a step card (``replyToId``): each meaning chosen is
    added, each one offered but not chosen taken back, as the Slack emoji would be. The
    flow counts a reaction once, so sending the same choice again changes nothing."""
    target = id_of(activity.get("replyToId"))
    offered = _keys(data.get(OFFERED_KEY))
    chosen = set(_keys(data.get(CHOICE_KEY))) & set(offered)
    if not target:
        return
    for index, key in enumerate(offered):
        yield ReactionChanged(
            event_id=f"{event_id}:{index}",
            where=where,
            user=user,
            target=target,
            emoji=key,
            added=key in chosen,
            at=moment,
        )


def _keys(value: Any) -> list[str]:
    """Meaning keys from a comma-separated choice, each a short name (at most ``MAX_CHOICES``)."""
    keys: list[str] = []
    for key in text_of(value).split(","):
        key = key.strip()
        if key and len(key) <= MAX_EMOJI_LENGTH and "\x00" not in key and key not in keys:
            keys.append(key)
    return keys[:MAX_CHOICES]


def _button(
    data: Mapping[str, Any], event_id: str, where: Where, user: str, moment: datetime
) -> ButtonPressed | None:
    verb, session_id = text_of(data.get(ACTION_KEY)), id_of(data.get(SESSION_KEY))
    if verb not in VERBS or not session_id:
        return None
    return ButtonPressed(
        event_id=event_id, where=where, user=user, session_id=session_id, action=verb, at=moment
    )


# --- the start form ------------------------------------------------------------------------


def _card_data(activity: Activity) -> Mapping[str, Any]:
    """What a card's button sent: its data with the card's inputs merged in."""
    if activity.get("type") == "invoke":
        return obj(obj(obj(activity.get("value")).get("action")).get("data"))
    return obj(activity.get("value"))


def is_start_form(activity: Activity) -> bool:
    """Whether the activity is the start form's button."""
    return activity.get("type") in ("invoke", "message") and (
        text_of(_card_data(activity).get(ACTION_KEY)) == START_VERB
    )


def start_form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's inputs by field as ``bot.start_form`` reads them: strings, and lists for
    the participants (Teams sends a multiple choice comma-separated) and the named record."""
    values: dict[str, Any] = {}
    for field in FormField:
        typed = data.get(field.value)
        text = typed if isinstance(typed, str) and "\x00" not in typed else ""
        text = text[:MAX_FORM_TEXT]
        if isinstance(typed, int | float) and not isinstance(typed, bool):
            text = str(typed)  # an Input.Number may come as a number
        if field in (FormField.PARTICIPANTS, FormField.NAMED_RECORD):
            values[field] = [part.strip() for part in text.split(",") if part.strip()]
        else:
            values[field] = text.strip()
    return values


def parse_start_form(
    activity: Activity, *, language: str | None = None
) -> tuple[StartSubmitted | None, dict[str, FormError]]:
    """The submitted start form as ``StartSubmitted``, or the errors to show the person
    (the same rules as Slack's modal); ``(None, {})`` without where or who."""
    where, user, activity_id = where_of(activity), user_of(activity), id_of(activity.get("id"))
    if where is None or not user or not activity_id:
        return None, {}
    values = start_form_values(_card_data(activity))
    errors = start_form_errors(values)
    if errors:
        return None, errors
    return (
        StartSubmitted(
            event_id=f"form:{activity_id}",
            where=where,
            user=user,
            request=start_request(values, invoker=user),
            at=at(activity.get("timestamp")),
            language=language or language_of(activity),
        ),
        {},
    )
