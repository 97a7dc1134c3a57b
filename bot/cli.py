"""The ``intervision`` command line: demo, run, worker, methods, export, cop ics, db upgrade."""

# Only argparse and the language list are imported up front, so that ``intervision --help``
# and a mistyped command answer at once; each sub-command imports what it uses (the
# database, Slack, the scheduler, charts) when it runs.

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot import cli_privacy
from bot.i18n import LANGUAGES

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.flows.method import Method
    from bot.platforms.console.app import ConsoleApp


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``intervision`` console script."""
    args = _parser().parse_args(argv)
    from bot.config import ConfigError, load_settings  # not needed to answer --help

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    command: int = args.func(args, settings)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intervision", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="play a whole session with a scripted team")
    demo.add_argument("--method", default="ims")
    demo.add_argument("--lang", choices=LANGUAGES, default="en")
    demo.set_defaults(func=cmd_demo)

    run = commands.add_parser("run", help="serve the configured platform (console without tokens)")
    run.set_defaults(func=cmd_run)

    worker = commands.add_parser(
        "worker", help="apply stored events, deliver posts, run the scheduler (no web server)"
    )
    worker.set_defaults(func=cmd_worker)

    methods = commands.add_parser("methods", help="list the method catalogue")
    methods.add_argument("--json", action="store_true", help="machine-readable output")
    methods.add_argument("--lang", choices=LANGUAGES, default=None)
    methods.add_argument("show", nargs="?", help=argparse.SUPPRESS)
    methods.add_argument("method_id", nargs="?", help="with 'show': the method to print")
    methods.set_defaults(func=cmd_methods)

    export = commands.add_parser("export", help="write a session's record")
    export.add_argument("session_id")
    export.add_argument("--format", choices=["md"], default="md")
    export.add_argument("--lang", choices=LANGUAGES, default=None)
    export.add_argument("--output", type=Path, default=None)
    export.add_argument(
        "--draft",
        action="store_true",
        help="operators only: export a record the case owner has not approved, marked as a draft",
    )
    export.set_defaults(func=cmd_export)

    cop = commands.add_parser("cop", help="Communities of Practice")
    cop.add_argument("action", choices=["ics"])
    cop.add_argument("name", help="the CoP's name")
    cop.add_argument("--workspace", default=None, help="when several workspaces have the name")
    cop.add_argument("--output", type=Path, default=None, help="default: <name>.ics here")
    cop.set_defaults(func=cmd_cop)

    teams = commands.add_parser("teams", help="Microsoft Teams: build the app package")
    teams.add_argument("action", choices=["package"])
    teams.add_argument("--domain", required=True, help="the bot's public host name")
    teams.add_argument("--app-id", default=None, help="the Entra app id (default TEAMS_CLIENT_ID)")
    teams.add_argument("--output", type=Path, default=Path("intervision-teams.zip"))
    teams.set_defaults(func=cmd_teams)

    cli_privacy.add_commands(commands)  # keys, purge

    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db)
    return parser


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build_services
    from bot.i18n import t
    from bot.platforms.console.app import ConsoleApp
    from bot.platforms.console.board import Board
    from bot.platforms.console.demo import demo_script

    services = build_services(replace(settings, language=args.lang))
    method = services.catalogue.get(args.method)
    if method is None:
        ids = ", ".join(m.id for m in services.catalogue.all())
        print(t("start.unknown_method", args.lang, method=args.method, methods=ids))
        return 1
    board = Board(sys.stdout)
    app = ConsoleApp(services, board)
    app.run(demo_script(method, args.lang))
    session_id = app.messenger.last_session_id
    print()
    print(t("demo.done", args.lang, command=f"intervision export {session_id} --format md"))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import TravelClock, build_services, start_scheduler
    from bot.i18n import t
    from bot.platforms.console.app import ConsoleApp
    from bot.platforms.console.board import Board

    if settings.platform in ("slack", "teams"):
        from bot.platforms.slack.serve import serve  # the web process serves both

        return serve(settings)
    clock = TravelClock()
    services = replace(build_services(settings), clock=clock)
    board = Board(sys.stdout)
    app = ConsoleApp(services, board, interactive=sys.stdin.isatty())
    scheduler = start_scheduler(services, settings, after_run=app.flush, guard=app.lock)
    app.travel = clock.shift
    app.run_due = scheduler.run_now
    try:
        if app.interactive:
            print(t("console.welcome", settings.language))
            app.run(_prompted(app), echo_commands=False)
        else:
            app.run(sys.stdin)
    finally:
        scheduler.stop()
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime.standalone import run_worker

    return run_worker(settings)


def cmd_teams(args: argparse.Namespace, settings: Settings) -> int:
    """``intervision teams package``: the zip to upload in Teams admin centre."""
    from bot.platforms.teams.package import PackageError, write_package

    app_id = args.app_id or settings.teams_client_id
    if not app_id:
        print("set TEAMS_CLIENT_ID or pass --app-id", file=sys.stderr)
        return 2
    try:
        path = write_package(args.output, app_id, args.domain)
    except PackageError as error:
        print(str(error), file=sys.stderr)
        return 2
    print(path)
    return 0


def cmd_cop(args: argparse.Namespace, settings: Settings) -> int:
    """``intervision cop ics <name>``: write a CoP's meetings as an iCalendar file."""
    from bot.bootstrap import build_services
    from bot.handlers.cop import ics_file_name, ics_of
    from bot.i18n import t
    from storage.time_repository import TimeRepository

    services = build_services(settings)
    with services.store.transaction() as tx:
        found = [
            c
            for c in TimeRepository(tx).cops_named(" ".join(args.name.split()))
            if args.workspace is None or c.group.workspace == args.workspace
        ]
    if not found:
        print(t("cop.not_found", settings.language, cop=args.name), file=sys.stderr)
        return 1
    workspaces = sorted({f"{c.group.platform}:{c.group.workspace}" for c in found})
    if len(workspaces) > 1:
        print(
            f"several workspaces have a CoP called {args.name!r}: {', '.join(workspaces)}; "
            "choose one with --workspace",
            file=sys.stderr,
        )
        return 2
    stored = sorted(found, key=lambda c: (c.cop.cancelled, -c.id))[0]
    path = args.output or Path(ics_file_name(stored.cop))
    path.write_bytes(ics_of(stored, services.clock()))
    print(t("cop.ics.written", settings.language, path=str(path)))
    return 0


def cmd_methods(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import load_methods
    from bot.i18n import t

    catalogue = load_methods(settings)
    lang = args.lang or settings.language
    if args.show:
        if args.show != "show" or not args.method_id:
            print("usage: intervision methods show <method-id> [--lang nl|de|en]", file=sys.stderr)
            return 2
        method = catalogue.get(args.method_id)
        if method is None:
            ids = ", ".join(m.id for m in catalogue.all())
            print(t("start.unknown_method", lang, method=args.method_id, methods=ids))
            return 1
        print(describe_method(method, lang))
        return 0
    if args.json:
        rows = [
            {"id": m.id, "names": dict(m.names), "steps": len(m.steps)} for m in catalogue.all()
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for method in catalogue.all():
        print(
            t("methods.line", lang, id=method.id, name=method.names[lang], steps=len(method.steps))
        )
    return 0


def describe_method(method: Method, lang: str) -> str:
    """A method's steps with their rules, as plain text."""
    from bot.i18n import t

    lines = [method.names[lang], method.summary[lang]]
    if method.note:
        lines.append(method.note[lang])
    lines.append(f"({method.source})")
    for number, step in enumerate(method.steps, start=1):
        lines.append("")
        lines.append(f"{number}. {step.title[lang]}")
        lines.append(f"   {step.instruction[lang]}")
        lines.append(f"   {t(f'step.speakers.{step.speakers.value}', lang)}")
        if step.silent:
            roles = ", ".join(t(f"role.{role.value}", lang) for role in sorted(step.silent))
            lines.append(f"   {t('step.silent', lang, roles=roles)}")
        lines.append(f"   {t(f'method.input.{step.input.value}', lang)}")
        lines.append(
            f"   {t('method.duration', lang, minutes=step.sync_minutes, hours=step.async_hours)}"
        )
        lines.append(f"   {t(f'method.advance.{step.advance.value}', lang)}")
        lines.extend(f"   {media.title[lang]}: {media.url}" for media in step.media)
    return "\n".join(lines)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build_services
    from bot.flows.record import build_record
    from bot.i18n import t
    from bot.records import render_markdown
    from storage.privacy_repository import PrivacyRepository

    services = build_services(settings)
    with services.store.transaction() as tx:
        session = tx.get_session(args.session_id)
    if session is None:
        print(t("export.not_found", settings.language, session=args.session_id), file=sys.stderr)
        return 1
    if session.approved_at is None and not args.draft:
        print(t("export.unapproved", session.language, session=session.id), file=sys.stderr)
        return 1
    with services.store.transaction() as tx:
        PrivacyRepository(tx).audit(
            at=services.clock(),
            actor=cli_privacy.operator(),
            action="export_draft" if session.approved_at is None else "export",
            target=f"session:{session.id}",
        )
    text = render_markdown(build_record(session, args.lang))
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(t("export.written", args.lang or session.language, path=str(args.output)))
    else:
        sys.stdout.write(text)
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import make_engine, upgrade

    upgrade(make_engine(settings.database_url))
    print("database is up to date")
    return 0


def _prompted(app: ConsoleApp) -> Iterator[str]:
    """Lines typed at a prompt that shows who is typing."""
    while True:
        try:
            yield input(f"{app.user}> ")
        except EOFError:
            return
