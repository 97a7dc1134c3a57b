"""The ``intervision`` command line for confidentiality: ``keys generate|rotate`` and ``purge``.

These are operator commands: whoever runs them has the database and the keys anyway.
Each one that changes stored data is written to the audit log (actor: the operating
system user), and none prints what people wrote.

- ``intervision keys generate`` prints a fresh Fernet key (to put first in
  ``INTERVISION_ENCRYPTION_KEYS`` or the key file).
- ``intervision keys rotate`` re-encrypts every stored secret with the newest key; after
  it, older keys can be removed.
- ``intervision purge [--now ISO-8601]`` deletes the sessions the retention periods no
  longer allow (the same function the daily scheduled job calls).
"""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the commands import what they use when they run (a fast --help)
    from bot.config import Settings


def add_commands(commands: Any) -> None:
    """Register ``keys`` and ``purge`` on the ``intervision`` sub-command parser."""
    keys = commands.add_parser(
        "keys", help="encryption keys: generate one, or rotate to the newest"
    )
    keys.add_argument("action", choices=["generate", "rotate"])
    keys.set_defaults(func=cmd_keys)

    purge = commands.add_parser("purge", help="delete sessions past their retention period")
    purge.add_argument(
        "--now", type=_moment, default=None, help="the moment to purge at (ISO 8601, with zone)"
    )
    purge.set_defaults(func=cmd_purge)


def operator() -> str:
    """Who runs the command line, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build_services
    from storage.crypto import Cipher, current_cipher
    from storage.privacy_repository import PrivacyRepository, rotate_keys

    if args.action == "generate":
        print(Cipher.generate_key())
        return 0
    services = build_services(settings)
    counts = rotate_keys(services.store.engine, current_cipher())
    total = sum(counts.values())
    with services.store.transaction() as tx:
        PrivacyRepository(tx).audit(
            at=services.clock(), actor=operator(), action="keys_rotate", detail={"values": total}
        )
    print(f"re-encrypted {total} stored value(s) with the newest key")
    for column, count in sorted(counts.items()):
        print(f"  {column}: {count}")
    print("older keys can now be removed from INTERVISION_ENCRYPTION_KEYS or the key file")
    return 0


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build_services
    from bot.handlers.retention import purge_expired

    services = build_services(settings)
    report = purge_expired(services, args.now)
    print(report)
    return 0


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give the moment with its time zone, e.g. +00:00")
    return moment
