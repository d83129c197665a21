"""Slack: slack-bolt's AsyncApp over the platform-neutral handlers.

One job per module:
- `settings`: the adapter's arguments from the settings (a bad token stops start-up).
- `edge`: the front door of POST /slack/events (signature, body, retries, origins).
- `requests`: pure translators, Slack payload → CommandRequest / MessageRequest.
- `render`: Block Kit for answers, briefings, notices and errors (pure).
- `acks`: the ack of an answer rendered once per index version and question.
- `socket`: Socket Mode's client and handler, made to give up and to name a refused token.
- `events`: mentions, direct messages and threads (conversations), and the App Home.
- `home`: the App Home view (pure rendering of `handlers.home.HomeData`).
- `errors`: Slack API errors as sentences.
- `adapter`: `SlackAdapter`, the wiring (PlatformAdapter).
"""

from __future__ import annotations

from bot.adapters import Platform
from bot.adapters.slack.acks import AckCache, ack_body
from bot.adapters.slack.adapter import SlackAdapter
from bot.adapters.slack.requests import COMMANDS
from bot.adapters.slack.settings import slack_settings

__all__ = ["COMMANDS", "PLATFORM", "AckCache", "SlackAdapter", "ack_body", "slack_settings"]

PLATFORM = Platform(
    name="slack",
    check_settings=slack_settings,
    create=SlackAdapter.from_settings,
    configured=lambda settings: settings.slack_bot_token is not None,
)
