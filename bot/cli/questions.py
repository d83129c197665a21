"""`briefbot ask` and `briefbot chat`: questions answered on the terminal."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys

from bot.cli.common import (
    add_seeds_option,
    context_for,
    print_result,
    print_text,
    result_to_json,
    run,
    settings_for,
    to_json,
)
from bot.engine.markup import clean_question
from bot.models import Result
from bot.render.text import render_text, render_turn


def cmd_ask(args: argparse.Namespace) -> int:
    from handlers import CommandRequest, dispatch

    ctx = context_for(settings_for(args))

    def one(question: str) -> Result:
        # The handler and the engine clean too; cleaning is idempotent, and doing it here
        # means nothing the shell passed (ANSI escapes, controls) reaches the output.
        request = CommandRequest(command="ask", text=clean_question(question), platform="cli")
        return run(dispatch(request, ctx))

    if args.question == "-":
        for line in sys.stdin:
            result = one(line.rstrip("\n"))
            if args.json:
                print(to_json(result_to_json(result)), flush=True)
            else:
                print_text(render_text(result) + "\n", flush=True)
        return 0
    return print_result(one(args.question), args.json)


def cmd_chat(args: argparse.Namespace) -> int:
    """A conversation on the terminal: one message a line, read in the context of the ones
    before ("what did he say?", "why?", "tell me more"), as in a Slack thread or a DM.

    On a terminal each turn reads as one: the question (prompted, or echoed when the
    messages come from a pipe or file), how a follow-up was understood, the reply, a rule.
    `--json` and output to a pipe or file are one result after another, as before."""
    from bot.ids import new_id
    from handlers.conversation import MessageRequest
    from handlers.registry import converse

    ctx = context_for(settings_for(args))
    conversation = f"cli:{new_id()}"
    interactive = sys.stdin.isatty() and not args.json
    on_terminal = sys.stdout.isatty() and not args.json
    width = min(shutil.get_terminal_size().columns, 72)

    async def session() -> None:
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                if interactive and on_terminal:
                    print()  # after Ctrl-D on the prompt, the shell's prompt on its own line
                return
            text = clean_question(line.rstrip("\n"))
            if on_terminal and not interactive:  # not typed here: show what was asked
                print_text(f"> {text}", flush=True)
            request = MessageRequest(text=text, platform="cli",
                                     conversation=conversation, message_key=f"cli:{new_id()}")
            result = await converse(request, ctx)
            if result is None:
                continue
            if args.json:
                print(to_json(result_to_json(result)), flush=True)
            elif on_terminal:
                print_text(render_turn(text, result, width), flush=True)
            else:
                print_text(render_text(result) + "\n", flush=True)

    run(session())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """ask, chat."""
    p = sub.add_parser("ask", help="answer a question from the seeds")
    p.add_argument("question", help='the question, or "-" to read one question a line from stdin')
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    add_seeds_option(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation from stdin: follow-ups read in context")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    add_seeds_option(p)
    p.set_defaults(func=cmd_chat)
