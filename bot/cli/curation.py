"""`briefbot index` and `briefbot eval`: what the seeds give, for curators."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.common import add_seeds_option, context_for, print_text, settings_for, to_json


def cmd_index(args: argparse.Namespace) -> int:
    ctx = context_for(settings_for(args))
    index = ctx.index.current
    if args.json:
        print(to_json(index.summary(), indent=2))
    else:
        print_text(index.describe())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation import run_eval

    ctx = context_for(settings_for(args))
    report = run_eval(Path(args.file), ctx, verbose=args.verbose)
    print_text(report.render())
    return 0 if report.all_passed or not args.strict else 1


def register(sub: argparse._SubParsersAction) -> None:
    """index, eval."""
    p = sub.add_parser("index", help="show what was extracted from the seeds (for curators)")
    p.add_argument("--json", action="store_true")
    add_seeds_option(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("eval", help="score a question file (dev_questions.json format)")
    p.add_argument("file")
    p.add_argument("--verbose", "-v", action="store_true", help="show every answer")
    p.add_argument("--strict", action="store_true", help="exit 1 unless every question passes")
    add_seeds_option(p)
    p.set_defaults(func=cmd_eval)
