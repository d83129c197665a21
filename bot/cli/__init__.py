"""The `briefbot` command line. Goes through the same handlers as the chat adapters.

One module a command group, each adding its subcommands to the parser with `register`:
`questions` (ask, chat), `curation` (index, eval), `briefing` (brief), `server` (serve,
doctor), `reload`, `articles` (add, remove), `reports` (gaps, feeds), `discord_sync`. A new
group is a module here with a `register(sub)` and its place in GROUPS (the order of
`briefbot --help`).

Each command imports what it needs when it runs: platform libraries only for `serve` and
`discord-sync`, aiohttp and SQLAlchemy only for the commands that fetch or open the store,
so `briefbot ask` loads none of them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from typing import Any, NoReturn

from bot.cli import (
    articles,
    briefing,
    curation,
    discord_sync,
    questions,
    reload,
    reports,
    server,
)
from bot.cli.common import print_text
from bot.errors import UserFacingError
from bot.settings import SettingsError

GROUPS = (questions, curation, briefing, server, reload, articles, reports, discord_sync)
"""The command groups, in the order `briefbot --help` lists their commands."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefbot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


EXTRA_COMMANDS: list[Any] = []


def end_on_closed_pipe() -> NoReturn:
    """Whoever read our output has gone (`briefbot ask … | head -2`): stop at once and
    quietly, ended by SIGPIPE as other Unix tools are (the shell shows status 141).

    Python ignores SIGPIPE so that a write raises BrokenPipeError instead; stdout is
    pointed at /dev/null first, so nothing left in its buffer fails again on the way out.
    """
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    raise SystemExit(128 + 13)  # where there is no SIGPIPE: the status a shell would show


def main(argv: list[str] | None = None) -> int:
    from bot.observability import setup_logging

    setup_logging(default_level="WARNING")  # `serve` raises it to BRIEFBOT_LOG_LEVEL
    parser = build_parser()
    for add in EXTRA_COMMANDS:
        add(parser)
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that has gone is found here, not at the exit's flush
        return code
    except BrokenPipeError:
        end_on_closed_pipe()
    except SettingsError as exc:
        print_text(f"briefbot: {exc}", file=sys.stderr)
        return 2
    except UserFacingError as exc:
        print_text(f"briefbot: {exc.message}" + (f"\n{exc.hint}" if exc.hint else ""),
                    file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
