"""`briefbot serve` and `briefbot doctor`: running the chat bot, and checking its setup."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.common import add_seeds_option, run, settings_for
from bot.settings import SettingsError


def cmd_serve(args: argparse.Namespace) -> int:
    from bot import adapters
    from bot.serve import serve

    settings = settings_for(args)
    asked = [*(["slack"] if args.slack else []), *(["discord"] if args.discord else []),
             *(args.platform or [])]
    if args.auto or not asked:  # the container's CMD: serve whatever the settings turn on
        on = adapters.configured(settings)
        if args.auto and not (asked or on):
            raise SettingsError(
                "serve --auto: neither SLACK_BOT_TOKEN nor DISCORD_TOKEN is set; set one or both"
            )
        if args.auto or settings.platforms:
            asked += on
    return serve(settings, list(dict.fromkeys(asked)))


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import run_doctor

    overrides = {"seeds_dir": Path(args.seeds)} if args.seeds else {}
    return run(run_doctor(overrides))


def register(sub: argparse._SubParsersAction) -> None:
    """serve, doctor."""
    p = sub.add_parser("serve", help="answer in Slack and/or Discord")
    p.add_argument("--slack", action="store_true", help="serve Slack (SLACK_BOT_TOKEN ...)")
    p.add_argument("--discord", action="store_true", help="serve Discord (DISCORD_TOKEN)")
    p.add_argument("--platform", action="append", metavar="NAME",
                   help="serve a platform by its registry name (repeatable)")
    p.add_argument("--auto", action="store_true",
                   help="serve every platform whose token is set (what the container runs)")
    add_seeds_option(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("doctor", help="check settings, seeds, store and platform tokens")
    add_seeds_option(p)
    p.set_defaults(func=cmd_doctor)
