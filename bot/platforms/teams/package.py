"""Teams adapter: the app package an admin uploads in Teams admin centre (a zip).

``manifest.json`` (schema 1.16) declares the bot in teams and personal scope, its command
menus (``start`` among them: without options it answers with the start form), the
resource-specific permissions it needs and ``webApplicationInfo`` (required for RSC), plus
two icons: a 192×192 colour icon and a 32×32 white-on-transparent outline. Pure standard
library; the icons are drawn here so the package needs no image files.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

MANIFEST_VERSION = "1.16"
SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
RSC_PERMISSIONS = ("ChannelMessage.Read.Group", "TeamMember.Read.Group")
"""Read every message in the channels of a team the bot is in (thread replies without an
@mention), and the team's members (to open 1:1 chats with them)."""
TEAM_COMMANDS = (
    ("start", "Start a session: a form, or start ims owner=@name"),
    ("next", "The facilitator moves the session on to the next step"),
    ("ready", "Say you are done with the current step"),
    ("pause", "The facilitator pauses the session"),
    ("resume", "The facilitator resumes the paused session"),
    ("close", "The facilitator closes the session"),
    ("status", "Where the session in this thread is"),
    ("methods", "The methods the bot knows"),
    ("help", "What the bot can do"),
)
"""The command menu in a channel (what Teams types after @intervision; at most ten)."""
PERSONAL_COMMANDS = (
    ("approve", "Approve the record of your case"),
    ("private", "Write your answer to a private step"),
    ("withdraw", "Take back one of your contributions"),
    ("my-data", "Everything you wrote, sent to you"),
    ("privacy", "How the bot handles what you write"),
    ("help", "What the bot can do"),
)
"""The command menu in the 1:1 chat with the bot."""
ACCENT = (0x3F, 0x48, 0x7F)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


class PackageError(ValueError):
    """The app id or the domain cannot go into a manifest."""


def manifest(app_id: str, domain: str, version: str = "0.1.0") -> dict[str, Any]:
    """The manifest for the bot registered as ``app_id``, served at ``https://domain``.

    Raises:
        PackageError: ``app_id`` is not a GUID or ``domain`` not a host name.
    """
    if not _GUID.match(app_id):
        raise PackageError("the app id must be the Entra application (client) id, a GUID")
    if not _DOMAIN.match(domain):
        raise PackageError("the domain must be the bot's host name, such as bot.example.org")
    site = f"https://{domain}"
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "Intervision Bot",
            "websiteUrl": site,
            "privacyUrl": f"{site}/privacy",
            "termsOfUseUrl": f"{site}/terms",
        },
        "name": {"short": "Intervision", "full": "Intervision: structured peer consultation"},
        "description": {
            "short": "Structured peer consultation (intervision) in a channel thread.",
            "full": (
                "Starts an intervision session in a channel, posts each step of the chosen "
                "method in the session's thread, collects contributions and reactions, keeps "
                "the privacy rules and writes the record the case owner approves."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["team", "personal"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [
                    {"scopes": ["team"], "commands": _commands(TEAM_COMMANDS)},
                    {"scopes": ["personal"], "commands": _commands(PERSONAL_COMMANDS)},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [domain],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{domain}/botid-{app_id}"},
        "authorization": {
            "permissions": {
                "resourceSpecific": [
                    {"name": name, "type": "Application"} for name in RSC_PERMISSIONS
                ]
            }
        },
    }


def _commands(commands: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"title": title, "description": description} for title, description in commands]


def write_package(target: Path, app_id: str, domain: str, version: str = "0.1.0") -> Path:
    """Write the zip (manifest and icons at its root, as Teams wants them) to ``target``."""
    built = manifest(app_id, domain, version)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(built, indent=2, ensure_ascii=False))
        archive.writestr("color.png", icon(192, (*ACCENT, 255), (255, 255, 255, 255)))
        archive.writestr("outline.png", icon(32, (0, 0, 0, 0), (255, 255, 255, 255)))
    return target


def icon(size: int, background: tuple[int, ...], ring: tuple[int, ...]) -> bytes:
    """A PNG of ``size``×``size``: a ring (people in a circle) on ``background``."""
    centre, outer, inner = (size - 1) / 2, size * 0.38, size * 0.26
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            row += bytes(ring if inner <= distance <= outer else background)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
