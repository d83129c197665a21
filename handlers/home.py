"""What a bot's home page shows (Slack's App Home), as data: platform-neutral.

The articles it answers from (title and date, newest first), the people it can describe,
the channels it briefs on this platform, example questions; for admins, the open gaps and
a Reload (the adapter wires the button to the same admin-checked `reload` command).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from bot.context import AppContext
from bot.models import Article
from handlers.feedback import flush_questions, gap_lines, gaps_notice
from handlers.requests import CommandRequest
from handlers.usage import examples

log = logging.getLogger("briefbot.home")

ARTICLES_SHOWN = 40
PEOPLE_SHOWN = 60
SUBSCRIPTIONS_SHOWN = 25
GAPS_SHOWN = 10


class HomeSubscription(BaseModel):
    channel_id: str
    time: str = Field(description="Local time of the daily briefing, HH:MM.")
    zone: str


class HomeData(BaseModel):
    """Everything one user's home page shows; `admin` adds the gaps and Reload."""

    kind: str = "home"
    articles: list[Article] = Field(default_factory=list, description="Newest first.")
    article_count: int = 0
    people: list[str] = Field(default_factory=list)
    people_count: int = 0
    examples: list[str] = Field(default_factory=list)
    subscriptions: list[HomeSubscription] = Field(default_factory=list)
    subscription_count: int = 0
    admin: bool = False
    gaps: list[str] = Field(default_factory=list, description="Admins only: one line a gap.")
    gaps_text: str | None = Field(default=None, description="Admins only: what the gaps are, "
                                  "or why there are none / none could be read.")
    index_version: int = 0


async def _subscriptions(req: CommandRequest, ctx: AppContext) -> list[Any]:
    if ctx.store is None:
        return []
    try:
        subscriptions = await ctx.store.list_subscriptions()
    except Exception:
        log.exception("home: cannot list subscriptions", extra={"platform": req.platform})
        return []
    return [s for s in subscriptions if s.platform == req.platform
            and (s.workspace_id is None or req.workspace_id is None
                 or s.workspace_id == req.workspace_id)]


async def _gaps(ctx: AppContext) -> tuple[list[str], str]:
    if ctx.store is None:
        return [], "The gaps need the store, and this process has none."
    try:
        await flush_questions(ctx)
        groups = await ctx.store.gaps(limit=GAPS_SHOWN)
    except Exception:
        log.exception("home: cannot read the gaps")
        return [], "The gaps could not be read just now; try /gaps."
    return gap_lines(groups), gaps_notice(groups).text


async def home(req: CommandRequest, ctx: AppContext) -> HomeData:
    """The home page for `req.user_id` on `req.platform` (admin part only for admins)."""
    engine = ctx.index.current
    articles = engine.articles()
    people = list(engine.people_names())
    subscriptions = await _subscriptions(req, ctx)
    data = HomeData(
        articles=articles[:ARTICLES_SHOWN], article_count=len(articles),
        people=people[:PEOPLE_SHOWN], people_count=len(people),
        examples=examples(people),
        subscriptions=[HomeSubscription(channel_id=s.channel_id,
                                        time=f"{s.hour:02d}:{s.minute:02d}", zone=s.zone)
                       for s in subscriptions[:SUBSCRIPTIONS_SHOWN]],
        subscription_count=len(subscriptions),
        admin=ctx.is_admin(req.platform, req.user_id, req.platform_admin),
        index_version=ctx.index.version,
    )
    if data.admin:
        data.gaps, data.gaps_text = await _gaps(ctx)
    return data
