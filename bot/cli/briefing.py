"""`briefbot brief`: today's briefing."""

from __future__ import annotations

import argparse

from bot.cli.common import add_seeds_option, context_for, print_result, run, settings_for


def cmd_brief(args: argparse.Namespace) -> int:
    from handlers import CommandRequest, dispatch

    ctx = context_for(settings_for(args))
    result = run(dispatch(CommandRequest(command="brief", text="", platform="cli"), ctx))
    return print_result(result, args.json)


def register(sub: argparse._SubParsersAction) -> None:
    """brief."""
    p = sub.add_parser("brief", help="print today's briefing")
    p.add_argument("--json", action="store_true")
    add_seeds_option(p)
    p.set_defaults(func=cmd_brief)
