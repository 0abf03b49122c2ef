"""The ``quizbot`` command.

Heavy imports (SQLAlchemy, the engine, adapters) happen inside the subcommand that
needs them, so ``quizbot --help`` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import SUPPORTED_LOCALES, Settings, SettingsError, load_settings

EXIT_USAGE = 2
TASK_CHOICES = ("3.1", "3.2", "3.3", "3.4")


def _settings() -> Settings:
    return load_settings()


def _run(coroutine: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        return 130


async def _with_app(args: argparse.Namespace, action: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.bank import BankError
    from bot.config import redact_url
    from bot.engine.service import EngineError
    from bot.runtime import open_app

    settings = _settings()
    try:
        async with open_app(settings) as app:
            return await action(app)
    except BankError as error:
        print(f"quizbot: refusing to start: {error}", file=sys.stderr)
        return EXIT_USAGE
    except EngineError as error:
        print(f"quizbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (SQLAlchemyError, OSError) as error:
        logging.getLogger(__name__).debug("database error", exc_info=True)
        print(
            f"quizbot: cannot use the database at {redact_url(settings.database_url)}: "
            f"{type(error).__name__}: {str(error).splitlines()[0][:200]}",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _emit(text: str, output: str | None, what: str) -> int:
    """An export goes to ``output`` (saying so on stderr) or to stdout, for piping."""
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {what} to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    from bot.adapters.console.play import play, terminal_learner

    async def action(app: Any) -> int:
        learner = terminal_learner(args.user, args.lang)
        focus = "weak" if args.weak else None
        await play(app.engine, learner, count=args.count, task=args.task, focus=focus)
        return 0

    return _run(_with_app(args, action))


def cmd_exam(args: argparse.Namespace) -> int:
    from bot.adapters.console.exam import take_exam
    from bot.adapters.console.play import terminal_learner

    async def action(app: Any) -> int:
        await take_exam(app.engine, terminal_learner(args.user, args.lang), count=args.count)
        return 0

    return _run(_with_app(args, action))


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from bot.adapters import plaintext as render
    from bot.adapters.console.play import TERMINAL, terminal_learner
    from bot.engine import Period, Scope

    async def action(app: Any) -> int:
        card = await app.engine.leaderboard(
            TERMINAL,
            terminal_learner(args.user, args.lang),
            scope=Scope.WORKSPACE,
            period=Period(args.period),
            top=args.top,
        )
        print(render.leaderboard(card))
        return 0

    return _run(_with_app(args, action))


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.adapters.console.play import show_stats, terminal_learner

    async def action(app: Any) -> int:
        await show_stats(app.engine, terminal_learner(args.user, args.lang), sys.stdout)
        return 0

    return _run(_with_app(args, action))


def cmd_exam_date(args: argparse.Namespace) -> int:
    from bot.adapters.console.play import terminal_learner
    from bot.adapters.plan import exam_date_reply

    async def action(app: Any) -> int:
        learner = terminal_learner(args.user, args.lang)
        reply, changed = await exam_date_reply(app.engine, learner, args.date, "quizbot exam-date")
        print(reply, file=sys.stdout if changed else sys.stderr)
        return 0 if changed else EXIT_USAGE

    return _run(_with_app(args, action))


def cmd_remind(args: argparse.Namespace) -> int:
    from bot.i18n import t

    print(t(args.lang or _settings().locale, "plan.remind.terminal"), file=sys.stderr)
    return EXIT_USAGE


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store.database import Database
    from bot.store.migrate import current_revision, upgrade

    async def go() -> int:
        database = Database(_settings().database_url)
        try:
            await upgrade(database)
            print(f"database at revision {await current_revision(database)}")
        finally:
            await database.dispose()
        return 0

    return _run(go())


def cmd_db_current(args: argparse.Namespace) -> int:
    from bot.store.database import Database
    from bot.store.migrate import current_revision, head_revision

    async def go() -> int:
        database = Database(_settings().database_url)
        try:
            current = await current_revision(database)
        finally:
            await database.dispose()
        head = head_revision()
        print(f"current: {current or 'empty'} · newest: {head}")
        return 0 if current == head else 1

    return _run(go())


def cmd_db_backup(args: argparse.Namespace) -> int:
    from bot.config import redact_url
    from bot.store.backup import BackupError, backup_sqlite, sqlite_file

    url = _settings().database_url
    try:
        source = sqlite_file(url)
        if source is None:
            print(
                f"quizbot: {redact_url(url)} is not a SQLite file; back PostgreSQL up with its own "
                "tool, e.g. pg_dump --format=custom --file=quizbot.dump DATABASE",
                file=sys.stderr,
            )
            return EXIT_USAGE
        pages = backup_sqlite(source, Path(args.path), overwrite=args.overwrite)
    except BackupError as error:
        print(f"quizbot: {error}", file=sys.stderr)
        return 1
    print(f"backed up {source} to {args.path} ({pages:,} pages, integrity checked)")
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    import tempfile

    from bot.config import database_url, redact_url
    from bot.store.copy import CopyRefused, copy_database, current_copy_of
    from bot.store.database import Database

    target_url = _settings().database_url
    try:
        source_url = database_url(args.source, "--from")
    except SettingsError as error:
        print(f"quizbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    if source_url == target_url:
        print("quizbot: --from names the configured database itself; nothing to copy", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"copying {redact_url(source_url)} into {redact_url(target_url)} "
        "(stop the bot first: answers given during the copy would stay behind)"
    )

    async def go() -> int:
        with tempfile.TemporaryDirectory(prefix="quizbot-copy-") as workdir:
            return await copy_from(await current_copy_of(source_url, Path(workdir)))

    async def copy_from(url: str) -> int:
        source, target = Database(url), Database(target_url)
        try:
            copied = await copy_database(
                source, target, lambda table, rows: print(f"  {table}: {rows:,} rows")
            )
        except CopyRefused as error:
            print(f"quizbot: {error}; nothing was copied", file=sys.stderr)
            return 1
        finally:
            await source.dispose()
            await target.dispose()
        print(f"copied {sum(copied.values()):,} rows in {len(copied)} tables")
        return 0

    return _run(go())


def cmd_questions_validate(args: argparse.Namespace) -> int:
    from bot.bank import validate_paths
    from bot.paths import bundled_questions_dir

    paths = [Path(p) for p in args.paths] or [bundled_questions_dir(), *_settings().questions_dirs]
    problems = validate_paths(paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found; nothing was loaded.", file=sys.stderr)
        return 1
    from bot.bank.loader import question_files

    print(f"ok: {len(question_files(paths))} file(s) valid")
    return 0


def _bank_for(paths: list[str]) -> Any:
    """The questions in PATHs, or the configured bank; exits 2 with the problems if invalid."""
    from bot.bank import BankError, load_bank
    from bot.bank.loader import load_paths

    try:
        if paths:
            return load_paths([Path(p) for p in paths])
        return load_bank(_settings().questions_dirs)
    except BankError as error:
        print(f"quizbot: {error}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from error


def cmd_questions_stats(args: argparse.Namespace) -> int:
    from collections import Counter

    from bot.bank.quality import gate_figures

    bank = _bank_for(args.paths)
    active = list(bank.active())
    retired = len(bank.all_including_retired()) - len(active)
    print(f"active questions: {len(active)}  (retired: {retired})")
    columns: list[tuple[str, Callable[[Any], str]]] = [
        ("task statement", lambda q: q.task),
        ("objective", lambda q: q.objective),
        ("type", lambda q: q.type),
        ("style", lambda q: q.style),
        ("difficulty", lambda q: str(q.difficulty)),
    ]
    for title, key in columns:
        counts = Counter(key(q) for q in active)
        print(f"by {title}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    languages = Counter(locale for q in active for locale in q.texts)
    print("languages: " + ", ".join(f"{k} {v}" for k, v in sorted(languages.items())))
    g = gate_figures(active)
    print(f"multiple response: {g.multiple_share:.1%}  (gate: at least 20%)")
    print(f"scenario style: {g.scenario_share:.1%}  (gate: at least 60%)")
    print(
        f"key is the longest option: {g.longest_correct}/{g.single} single = {g.longest_correct_share:.1%}"
        "  (gate: at most 30%; random would be about 25%)"
    )
    spread = ", ".join(f"{k} {g.key_share[k]:.1%}/{g.expected_share[k]:.1%}" for k in g.expected_share)
    print(f"key position, actual/random: {spread}; worst gap {g.worst_key_gap:.1f} points  (gate: at most 8)")
    return 0


def cmd_questions_export(args: argparse.Namespace) -> int:
    from bot.bank.export import LOCALES, to_csv, to_json

    bank = _bank_for(args.paths)
    questions = list(bank.all_including_retired() if args.include_retired else bank.active())
    locales = LOCALES if args.lang == "all" else (args.lang,)
    text = to_csv(questions, locales) if args.format == "csv" else to_json(questions, locales)
    return _emit(text, args.output, f"{len(questions)} question(s)")


def cmd_questions_check_links(args: argparse.Namespace) -> int:
    from bot.bank.links import check_urls

    bank = _bank_for(args.paths)
    urls = [url for q in bank.all_including_retired() for url in q.references]
    results = check_urls(urls, timeout=args.timeout)
    broken = [r for r in results if not r.ok]
    for result in broken:
        print(f"BROKEN {result.url}: {result.status or ''} {result.error or ''}".rstrip())
    print(f"{len(results) - len(broken)} of {len(results)} link(s) answered")
    return 1 if broken else 0


def cmd_questions_flags(args: argparse.Namespace) -> int:
    async def action(app: Any) -> int:
        if args.resolve:
            closed = await app.engine.resolve_flags(args.resolve)
            print(f"resolved {closed} open flag(s) on {args.resolve}")
            return 0
        summaries = await app.engine.open_flags()
        if not summaries:
            print("no open flags")
        for s in summaries:
            print(
                f"{s.question_id}: {s.flags} flag(s) (wrong {s.wrong}, unclear {s.unclear}), "
                f"last {s.last_at:%Y-%m-%d}"
            )
            for comment in s.comments:
                print(f"    - {comment}")
        return 0

    return _run(_with_app(args, action))


def cmd_questions_regrade(args: argparse.Namespace) -> int:
    from bot.engine.service import EngineError

    async def action(app: Any) -> int:
        try:
            report = await app.engine.regrade(args.question_id)
        except EngineError as error:
            print(f"quizbot: {error}", file=sys.stderr)
            return 1
        print(
            f"{report.question_id}: {report.attempts} attempt(s), {report.changed} changed, "
            f"{report.now_correct} now correct; standings rebuilt in {len(report.workspaces)} place(s)"
        )
        return 0

    return _run(_with_app(args, action))


def cmd_run(args: argparse.Namespace) -> int:
    from bot.adapters.discord.settings import load_discord_settings
    from bot.adapters.slack.settings import load_slack_settings
    from bot.supervisor import RoleError, plan_parts, supervise

    settings = _settings()
    try:
        discord_settings = load_discord_settings(settings.extra)
        slack_settings = load_slack_settings(settings.extra, settings.http_port)
    except SettingsError as error:
        print(f"quizbot: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if discord_settings is None and slack_settings is None:
        print(
            "quizbot run: no platform is configured. Set DISCORD_TOKEN (Discord), or SLACK_BOT_TOKEN "
            "with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (Slack, one workspace), or SLACK_CLIENT_ID "
            "and SLACK_CLIENT_SECRET (Slack, installable in many workspaces), in the environment or .env.\n"
            "To try the bot without any token, run: quizbot play",
            file=sys.stderr,
        )
        return EXIT_USAGE

    try:
        parts = plan_parts({"discord": discord_settings, "slack": slack_settings}, args.only or ())
    except RoleError as error:
        print(f"quizbot run: {error}", file=sys.stderr)
        return EXIT_USAGE

    async def serve(app: Any) -> int:
        return await supervise(app, parts, discord_settings, slack_settings)

    return _run(_with_app(args, serve))


def cmd_db_export(args: argparse.Namespace) -> int:
    import csv
    import io
    import json

    from bot.engine.model import PlaceRef
    from bot.store.database import Database
    from bot.store.export import export_rows

    workspace = None
    if args.workspace:
        platform, _, workspace_id = args.workspace.partition(":")
        if not platform or not workspace_id:
            print("quizbot: --workspace takes PLATFORM:ID, e.g. discord:123456789", file=sys.stderr)
            return EXIT_USAGE
        workspace = PlaceRef(platform, workspace_id, "")

    async def read() -> tuple[Sequence[str], list[Any]]:
        database = Database(_settings().database_url)
        try:
            return await export_rows(database, args.table, workspace)
        finally:
            await database.dispose()

    columns, rows = asyncio.run(read())
    if args.format == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=1, default=str) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    return _emit(text, args.output, f"{len(rows)} {args.table} row(s)")


def _person(text: str) -> tuple[str, str]:
    """``PLATFORM:USER_ID`` (``discord:123…``, ``slack:U0…``, ``terminal:NAME``) as the pair
    the database keys that person by."""
    from bot.adapters.console.play import terminal_learner

    platform, _, user_id = text.partition(":")
    if not platform or not user_id:
        raise argparse.ArgumentTypeError(f"{text!r}: expected PLATFORM:USER_ID, e.g. discord:123456789")
    if platform in ("terminal", "console"):  # the terminal game keys players by their name, casefolded
        player = terminal_learner(user_id, None)
        return player.platform, player.user_id
    if platform not in ("discord", "slack"):
        raise argparse.ArgumentTypeError(f"{text!r}: the platform is discord, slack or terminal")
    return platform, user_id


def cmd_privacy_export(args: argparse.Namespace) -> int:
    from bot.adapters.plaintext import personal_data

    platform, user_id = args.person

    async def action(app: Any) -> int:
        data = await app.engine.export_learner(platform, user_id)
        if data is None:
            print(f"quizbot: nothing is stored about {platform}:{user_id}", file=sys.stderr)
            return 1
        return _emit(personal_data(data), args.output, f"what is stored about {platform}:{user_id}")

    return _run(_with_app(args, action))


def cmd_privacy_forget(args: argparse.Namespace) -> int:
    platform, user_id = args.person
    if not args.yes:
        if not sys.stdin.isatty():
            print("quizbot: forgetting cannot be undone; confirm with --yes", file=sys.stderr)
            return EXIT_USAGE
        answer = input(
            f"Forget {platform}:{user_id}? Their ids and names are erased from every table; "
            "their answers stay, anonymous. This cannot be undone. [y/N] "
        )
        if answer.strip().lower() not in {"y", "yes"}:
            print("nothing changed")
            return 1

    async def action(app: Any) -> int:
        report = await app.engine.forget_learner(platform, user_id)
        if not report.found:
            print(f"nothing is stored about {platform}:{user_id}; nothing to forget")
            return 0
        print(
            f"forgot {platform}:{user_id}: {report.attempts} answer(s) kept anonymous, "
            f"{report.sessions} practice session(s), {report.flags} report(s), "
            f"{report.standings} leaderboard row(s) removed and the boards recounted, "
            f"{report.organiser_grants} organiser grant(s) removed, "
            f"{report.schedules} daily schedule(s) no longer name them"
        )
        return 0

    return _run(_with_app(args, action))


def cmd_health(args: argparse.Namespace) -> int:
    from bot.health import check
    from bot.store.backup import sqlite_file
    from bot.store.database import Database

    url = _settings().database_url
    if (path := sqlite_file(url)) is not None and not path.is_file():
        print(f"no bot has run here: no database at {path}", file=sys.stderr)
        return 1

    async def go() -> int:
        database = Database(url)
        try:
            healthy, why = await check(database)
        finally:
            await database.dispose()
        print(why, file=sys.stdout if healthy else sys.stderr)
        return 0 if healthy else 1

    return _run(go())


def cmd_discord_invite_url(args: argparse.Namespace) -> int:
    from bot.adapters.discord.client import invite_url
    from bot.adapters.discord.settings import load_discord_settings

    try:
        discord_settings = load_discord_settings(_settings().extra)
    except SettingsError as error:
        print(f"quizbot: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if discord_settings is None:
        print("quizbot: set DISCORD_TOKEN first (the invite URL is built from the bot's id)", file=sys.stderr)
        return EXIT_USAGE
    try:
        print(invite_url(discord_settings))
    except SettingsError as error:
        print(f"quizbot: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quizbot",
        description="AWS Certified AI Practitioner (AIF-C01) Domain 3 quiz bot.",
    )
    parser.add_argument("--version", action="version", version=f"quizbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def user_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--user", help="your name on this machine's scoreboard (default: login name)")
        sub.add_argument("--lang", choices=SUPPORTED_LOCALES, help="language (default: QUIZBOT_LOCALE)")

    play = commands.add_parser(
        "play",
        help="practise in the terminal (no token needed)",
        description="Answer questions in the terminal; scores are saved.",
    )
    play.add_argument("--task", choices=TASK_CHOICES, help="only this task statement")
    play.add_argument(
        "--weak",
        action="store_true",
        help="drill the objectives where your last 100 answers are weakest (due reviews first)",
    )
    play.add_argument(
        "--count", type=_whole(1, 100), default=10, help="number of questions, 1–100 (default 10)"
    )
    user_options(play)
    play.set_defaults(handler=cmd_play)

    exam = commands.add_parser(
        "exam",
        help="a timed mock exam in the terminal",
        description="A mock exam shaped like Domain 3: questions over 3.1-3.4 in the exam guide's "
        "proportions, multiple response included, 1.5 minutes per question, no feedback until the "
        "end; then the raw score, a scaled-score estimate (100-1000, pass mark 700) and a review of "
        "every missed question. Not on the leaderboard.",
    )
    exam.add_argument(
        "--count", type=_whole(1, 65), default=20, help="number of questions, 1–65 (default 20)"
    )
    user_options(exam)
    exam.set_defaults(handler=cmd_exam)

    board = commands.add_parser(
        "leaderboard", help="the terminal's leaderboard", description="Show the terminal place's leaderboard."
    )
    board.add_argument("--period", choices=("week", "month", "all"), default="all")
    board.add_argument("--top", type=_whole(1, 50), default=10, help="how many learners, 1–50 (default 10)")
    user_options(board)
    board.set_defaults(handler=cmd_leaderboard)

    stats = commands.add_parser(
        "stats",
        help="your own stats",
        description="Your answers, accuracy and runs, and the progress chart's figures as tables: "
        "accuracy per task statement and answers per day over the last 30 days.",
    )
    user_options(stats)
    stats.set_defaults(handler=cmd_stats)

    for name, summary, description, handler, (value, count, meaning) in (
        (
            "exam-date",
            "set your exam date (YYYY-MM-DD, or off)",
            "Your exam date: `quizbot stats` counts down to it, and every review is planned to come "
            "back before it. `off` clears it. The player is named as in `quizbot play`.",
            cmd_exam_date,
            ("date", None, "YYYY-MM-DD (today or later), or off"),
        ),
        (
            "remind",
            "daily reminders: Discord and Slack only",
            "The terminal cannot send reminders (it has no direct messages); this says so. Set them "
            "in Discord or Slack with /quiz remind HH:MM.",
            cmd_remind,
            ("time", "?", "HH:MM, or off"),
        ),
    ):
        planner = commands.add_parser(name, help=summary, description=description)
        planner.add_argument(value, nargs=count, help=meaning)
        planner.add_argument("--name", dest="user", help="the same as --user")
        user_options(planner)
        planner.set_defaults(handler=handler)

    run = commands.add_parser(
        "run",
        help="run the configured chat adapters",
        description="Run the Discord and/or Slack adapters configured in the environment, and the "
        "scheduler that posts daily questions and closes rounds. --only splits these roles across "
        "processes that share one database (PostgreSQL across machines).",
    )
    run.add_argument(
        "--only",
        action="append",
        choices=("discord", "slack", "scheduler"),
        help="run only this role (repeatable); default: every configured platform and the scheduler",
    )
    run.set_defaults(handler=cmd_run)

    commands.add_parser(
        "health",
        help="exit 0 if this host's bot is running and connected",
        description="Exit 0 when a `quizbot run` on this host has beaten in the last 30 s with "
        "every part connected and the database answering; otherwise exit 1 with the reason.",
    ).set_defaults(handler=cmd_health)
    discord_cmd = commands.add_parser("discord", help="Discord tools", description="Discord tools.")
    discord_commands = discord_cmd.add_subparsers(dest="discord_command", metavar="ACTION", required=True)
    discord_commands.add_parser(
        "invite-url",
        help="the URL that adds the bot to a server",
        description="Print the OAuth2 URL that adds the bot to a server, with the permissions it uses.",
    ).set_defaults(handler=cmd_discord_invite_url)

    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser(
        "upgrade", help="apply migrations", description="Apply all migrations."
    ).set_defaults(handler=cmd_db_upgrade)
    db_commands.add_parser(
        "current",
        help="show the schema revision",
        description="Show the current and newest schema revision; exit 1 if behind.",
    ).set_defaults(handler=cmd_db_current)
    backup = db_commands.add_parser(
        "backup",
        help="copy the SQLite database while the bot runs",
        description="Write a consistent, checked copy of the SQLite database to PATH, safe while "
        "the bot is running. On PostgreSQL, use pg_dump.",
    )
    backup.add_argument("path", metavar="PATH", help="the file to write")
    backup.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    backup.set_defaults(handler=cmd_db_backup)
    db_copy = db_commands.add_parser(
        "copy",
        help="copy another database into the configured (empty) one",
        description="Copy every score, round, setting and installation from --from into the "
        "database QUIZBOT_DATABASE_URL names, which must be empty; for moving from SQLite to "
        "PostgreSQL. One transaction: a failure copies nothing. Stop the bot first.",
    )
    db_copy.add_argument(
        "--from", dest="source", required=True, metavar="URL", help="e.g. sqlite:////data/quizbot.db"
    )
    db_copy.set_defaults(handler=cmd_db_copy)
    db_export = db_commands.add_parser(
        "export",
        help="write standings or attempts as CSV or JSON",
        description="Write the standings (every board) or the attempts, for all servers and "
        "workspaces or one, as CSV or JSON. Learners appear by platform id and display name; "
        "no token or secret is ever exported.",
    )
    db_export.add_argument("--format", choices=("csv", "json"), default="csv")
    db_export.add_argument("--table", choices=("standings", "attempts"), default="standings")
    db_export.add_argument("--workspace", metavar="PLATFORM:ID", help="only this server or workspace")
    db_export.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    db_export.set_defaults(handler=cmd_db_export)

    privacy = commands.add_parser(
        "privacy",
        help="what is stored about a person; erase it",
        description="A person's right of access and erasure (LGPD/GDPR), for operators.",
    )
    privacy_commands = privacy.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    person_actions = {
        "export": (
            cmd_privacy_export,
            "everything stored about one person, as JSON",
            "Write everything stored about one person as JSON: their learner row, answers, "
            "leaderboard rows, practice sessions, reports, organiser grants and daily schedules "
            "they set. Nothing about anyone else; never a token. Exit 1 if nothing is stored.",
        ),
        "forget": (
            cmd_privacy_forget,
            "erase one person's ids and names everywhere",
            "Erase one person: their platform id and name leave every table, their answers stay "
            "anonymous (tallies and question statistics do not change) and the leaderboards are "
            "recounted without them. Safe while the bot runs; cannot be undone.",
        ),
    }
    person_parsers = {}
    for name, (handler, summary, description) in person_actions.items():
        person = privacy_commands.add_parser(name, help=summary, description=description)
        person.add_argument(
            "person", metavar="PLATFORM:USER_ID", type=_person, help="discord:ID, slack:ID or terminal:NAME"
        )
        person.set_defaults(handler=handler)
        person_parsers[name] = person
    person_parsers["export"].add_argument(
        "-o", "--output", metavar="FILE", help="write here instead of standard output"
    )
    person_parsers["forget"].add_argument(
        "--yes", action="store_true", help="do not ask (needed when not on a terminal)"
    )

    questions = commands.add_parser(
        "questions", help="question bank tools", description="Question bank tools."
    )
    q_commands = questions.add_subparsers(dest="questions_command", metavar="ACTION", required=True)
    validate = q_commands.add_parser(
        "validate",
        help="check question files",
        description="Validate question files or folders (default: the whole bank).",
    )
    validate.add_argument(
        "paths", nargs="*", help="files or folders (default: bundled bank + QUIZBOT_QUESTIONS_DIRS)"
    )
    validate.set_defaults(handler=cmd_questions_validate)
    paths_help = "question files or folders (default: bundled bank + QUIZBOT_QUESTIONS_DIRS)"
    q_stats = q_commands.add_parser(
        "stats",
        help="coverage and quality figures",
        description="Coverage per task, objective, type, difficulty and language, "
        "and the bank's quality gate figures.",
    )
    q_stats.add_argument("paths", nargs="*", help=paths_help)
    q_stats.set_defaults(handler=cmd_questions_stats)
    export = q_commands.add_parser(
        "export",
        help="write the bank as CSV or JSON",
        description="Write the bank as CSV or JSON (one language or all).",
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--lang", choices=("en", "pt-BR", "all"), default="all")
    export.add_argument("--include-retired", action="store_true", help="also export retired questions")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("paths", nargs="*", help=paths_help)
    export.set_defaults(handler=cmd_questions_export)
    links = q_commands.add_parser(
        "check-links",
        help="check that reference URLs answer (needs internet)",
        description="Request every reference URL; exit 1 if any is broken.",
    )
    links.add_argument("--timeout", type=float, default=15.0, help="seconds per request (default 15)")
    links.add_argument("paths", nargs="*", help=paths_help)
    links.set_defaults(handler=cmd_questions_check_links)
    flags = q_commands.add_parser(
        "flags",
        help="questions learners reported",
        description="List open flags with counts per question, or resolve them.",
    )
    flags.add_argument("--resolve", metavar="QUESTION_ID", help="close the open flags of this question")
    flags.set_defaults(handler=cmd_questions_flags)
    regrade = q_commands.add_parser(
        "regrade",
        help="re-mark a question after its key was fixed",
        description="Re-mark every attempt of a question with its current answer "
        "key and rebuild the standings they count in.",
    )
    regrade.add_argument("question_id")
    regrade.set_defaults(handler=cmd_questions_regrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = _settings()
    except SettingsError as error:
        print(f"quizbot: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    from bot.logs import configure_logging

    configure_logging(settings.log_level, settings.secrets, settings.log_format)
    try:
        result: int = args.handler(args)
    except BrokenPipeError:  # `quizbot questions export | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return result


if __name__ == "__main__":
    raise SystemExit(main())
