"""`add URL`: admins add an article by its URL from chat; it is fetched, written and reloaded.

The same steps as `briefbot add` (`bot/ingest/add.py`: every refusal is one sentence and
nothing is written), then the same reload as `/reload` (`handlers/reload.py`), which records
the article in the store with the new index version (so every replica writes it into its own
seeds folder), and whose report is the answer, under a title naming the article and its date.
"""

from __future__ import annotations

import logging
import re

from bot.context import AppContext
from bot.errors import SeedError
from bot.ingest.mirror import change_from_file
from bot.models import Notice, Result, UserError
from handlers.reload import added_by, reload_seeds, require_admin
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.add")

USAGE = Notice(
    title="Add an article by its URL (admins)",
    text="`/add https://www.example.com/news/2025/03/04/harbour-bridge` fetches the page, "
         "writes its article to the seeds and reloads. Only http and https pages on public "
         "addresses are fetched; adding the same URL again updates its file.",
)
TITLE_MAX = 150

_LINK = re.compile(r"<([^<>|\s]+)(?:\|[^<>]*)?>")
"""Slack `<https://x|label>` and `<https://x>`, Discord `<https://x>` (no embed)."""
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def url_of(text: str) -> str:
    """The URL in a chat message: link markup removed (the URL kept, not its label) and
    Slack's three entities decoded once (`&amp;` in a query string)."""
    text = text.strip()
    link = _LINK.fullmatch(text)
    if link:
        text = link.group(1)
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def _short(text: str, limit: int = TITLE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def add(req: CommandRequest, ctx: AppContext) -> Result:
    words = req.text.split()
    if not words or (len(words) == 1 and words[0].lower() == "help"):
        return USAGE
    require_admin(req, ctx, "add articles")
    if len(words) > 1:
        return UserError(message="Give one URL, and nothing else, to add an article.",
                         hint="e.g. /add https://www.example.com/news/harbour-bridge")
    # imported here: trafilatura takes half a second to import, which only /add needs
    from bot.ingest.add import add_url, people_in
    from bot.ingest.fetch import FetchRefused

    url = url_of(words[0])
    try:
        added = await add_url(url, ctx.settings.seeds_dir,
                              allow_hosts=ctx.settings.fetch_allow_hosts, inspect=people_in)
    except FetchRefused as exc:
        log.warning("add refused: %s", exc.message,
                    extra={"platform": req.platform, "user": req.user_id})
        return UserError(message=exc.message, hint=exc.hint)
    except SeedError as exc:  # the new file alone would not load: it was not written
        log.warning("add refused: the article would not load: %s", exc.message)
        return UserError(message=f"Refused: the article would not load, so nothing was "
                                 f"written: {exc.message}", hint=exc.hint)
    article = added.article
    log.info("added article", extra={"platform": req.platform, "user": req.user_id,
                                     "path": added.path.name, "updated": added.updated,
                                     "fetch_s": round(added.fetch_s, 3)})
    # recorded in the store with the new version: every replica writes it into its folder
    recorded = [change_from_file(added.path, by=added_by(req))]
    reloaded = await reload_seeds(req, ctx, recorded)
    if isinstance(reloaded, UserError):
        return UserError(
            message=f"The article “{_short(article.title)}” was written to "
                    f"{added.path.name}, but the index was not reloaded. {reloaded.message}",
            hint=reloaded.hint)
    date = article.date or "no date"
    verb = "updated" if added.updated else "added"
    return Notice(
        title=f"Article {verb}: {_short(article.title)} ({date})",
        text=f"{added.path.name} {'rewritten' if added.updated else 'written'}; "
             f"{reloaded.text[0].lower()}{reloaded.text[1:]}",
        lines=reloaded.lines,
        data={**reloaded.data, "path": added.path.name, "updated": added.updated,
              "title": article.title, "date": article.date, "url": added.url,
              "source": added.source, "people": list(added.inspected or [])},
    )
