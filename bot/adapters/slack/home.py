"""The App Home tab as a Block Kit view (pure: `handlers.home.HomeData` in, a view out).

Everything from the seeds is escaped as in answers. Slack's limits hold: 100 blocks a view
(the middle is trimmed; the admin part stays), 3,000 characters a section, 150 a header,
10 elements a context block.
"""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.render import (
    Block,
    context,
    escape,
    render,
    sections,
    shorten,
)
from bot.models import Result
from handlers.home import HomeData

HOME_RELOAD_ACTION = "briefbot_home_reload"
MAX_VIEW_BLOCKS = 100
MAX_HEADER_CHARS = 150

HOW_TO = ("Mention *@briefbot* with a question in a channel and I answer in a thread, or send "
          "me a direct message. Follow up in the thread (mention me again) or the DM: "
          "`what did he say?`, `why?`, `tell me more`. Every answer quotes the articles and "
          "cites them. Slash commands: `/ask`, `/who`, `/brief`.")


def header(text: str) -> Block:
    text = text if len(text) <= MAX_HEADER_CHARS else text[: MAX_HEADER_CHARS - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _divider() -> Block:
    return {"type": "divider"}


def _article(title: str, date: str | None, url: str | None) -> str:
    name = f"*{shorten(escape(title), 200)}*"
    if url and url.startswith(("http://", "https://")) and len(url) < 500:
        name = f"<{escape(url).replace('|', '%7C')}|{shorten(escape(title), 200)}>"
    return f"• {name}" + (f" — {escape(date)}" if date else "")


def _more(shown: int, total: int, what: str) -> list[Block]:
    return context([f"…and {total - shown} more {what}."]) if total > shown else []


def _body(data: HomeData) -> list[Block]:
    blocks: list[Block] = [*sections(HOW_TO), header("Try asking")]
    blocks += sections("\n".join(f"• `{escape(q)}`" for q in data.examples))
    blocks += [_divider(), header(f"Articles ({data.article_count})")]
    if data.articles:
        blocks += sections("\n".join(_article(a.title, a.date, a.url) for a in data.articles))
        blocks += _more(len(data.articles), data.article_count, "articles")
    else:
        blocks += sections("No articles loaded.")
    blocks += [header(f"People I can describe ({data.people_count})")]
    if data.people:
        blocks += sections(", ".join(escape(p) for p in data.people))
        blocks += _more(len(data.people), data.people_count, "people")
    else:
        blocks += sections("Nobody yet.")
    blocks += [_divider(), header("Daily briefings")]
    if data.subscriptions:
        blocks += sections("\n".join(
            f"• <#{escape(s.channel_id)}> at {escape(s.time)} {escape(s.zone)}"
            for s in data.subscriptions))
        blocks += _more(len(data.subscriptions), data.subscription_count, "channels")
    else:
        blocks += sections("No channel gets the daily briefing yet. In a channel: "
                           "`/brief subscribe 08:30 Europe/Berlin`.")
    return blocks


def _admin(data: HomeData) -> list[Block]:
    if not data.admin:
        return []
    blocks: list[Block] = [_divider(), header("Admin: gaps")]
    if data.gaps_text:
        blocks += sections(escape(data.gaps_text))
    if data.gaps:
        blocks += sections("\n".join(f"• {escape(line)}" for line in data.gaps))
    blocks.append({
        "type": "actions", "block_id": "briefbot_home_admin",
        "elements": [{
            "type": "button", "action_id": HOME_RELOAD_ACTION, "value": "reload",
            "text": {"type": "plain_text", "text": "Reload the seeds", "emoji": True},
            "confirm": {
                "title": {"type": "plain_text", "text": "Reload the seeds?"},
                "text": {"type": "plain_text",
                         "text": "Re-read the seed articles; briefbot keeps answering."},
                "confirm": {"type": "plain_text", "text": "Reload"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            },
        }],
    })
    blocks += context([f"Index version {data.index_version}"])
    return blocks


def home_view(data: HomeData, notice: Result | None = None) -> dict[str, Any]:
    """The Home tab's view for one user; `notice` (a reload's report, say) goes on top."""
    head = [header("briefbot")]
    if notice is not None:
        head += [*render(notice, interactive=False)["blocks"], _divider()]
    body, tail = _body(data), _admin(data)
    room = MAX_VIEW_BLOCKS - len(head) - len(tail)
    if len(body) > room:
        body = [*body[: room - 1], *context(["_…more left out to fit Slack's limits._"])]
    return {"type": "home", "blocks": [*head, *body, *tail][:MAX_VIEW_BLOCKS]}
