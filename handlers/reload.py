"""`reload`: admins re-read the seeds while the bot keeps answering."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.context import AppContext
from bot.engine.reload import ReloadReport, reload_index
from bot.errors import NotAllowedError, SeedError
from bot.ingest.mirror import SeedSyncError, change_from_file, safe_name
from bot.models import Notice, Result, UserError
from bot.store.records import ArticleChange
from handlers.requests import CommandRequest

if TYPE_CHECKING:
    from bot.store.store import Store

log = logging.getLogger("briefbot.reload")


class _NotRecorded(Exception):
    """The store refused the version bump of a reload (the cause is chained)."""


def require_admin(req: CommandRequest, ctx: AppContext, action: str) -> None:
    if req.platform == "cli" or ctx.is_admin(req.platform, req.user_id, req.platform_admin):
        return
    log.warning("refused %s for non-admin", action,
                extra={"platform": req.platform, "user": req.user_id, "command": req.command})
    raise NotAllowedError(f"Only admins can {action}.",
                          hint="Ask an admin, or have your user added to BRIEFBOT_ADMINS.")


PUBLISH_OPTION = "publish"
"""From this host only (`briefbot add` through POST /admin/reload): seed files just written,
one name a line, to record in the store with the reload."""
MAX_PUBLISHED = 50


async def reload(req: CommandRequest, ctx: AppContext) -> Result:
    require_admin(req, ctx, "reload the seeds")
    written = req.options.get(PUBLISH_OPTION, "") if req.platform == "cli" else ""
    names = [name for name in written.split("\n") if name]
    if len(names) > MAX_PUBLISHED or not all(safe_name(name) for name in names):
        return UserError(message="Reload refused: the files to record must be at most "
                                 f"{MAX_PUBLISHED} seed file names (no folders).")
    try:
        changes = [change_from_file(ctx.settings.seeds_dir / name, by=added_by(req))
                   for name in names]
    except (OSError, UnicodeDecodeError) as exc:
        return UserError(message=f"Reload refused: cannot read a file to record "
                                 f"({getattr(exc, 'strerror', None) or exc}).",
                         hint="Nothing changed; the current index keeps serving.")
    return await reload_seeds(req, ctx, changes)


async def reload_seeds(req: CommandRequest, ctx: AppContext,
                       changes: Sequence[ArticleChange] = ()) -> Notice | UserError:
    """The reload itself, for a caller that checked the rights (`/reload`, `/add`, `/remove`,
    feeds): the report as a Notice, or the sentence saying why nothing changed.

    With a store, the seeds folder first catches up with the store's articles (but the ones
    in `changes`, this reload's own), and `changes` are recorded in the same transaction as
    the new version, so every replica finds them when it follows.
    """
    try:
        if ctx.store is not None:
            report = await _reload_recorded(req, ctx, ctx.store, changes)
        else:
            report = await reload_index(ctx.index, ctx.settings)
    except SeedError as exc:
        log.warning("reload refused: %s", exc.message)
        _keep_pending(ctx, changes)
        return UserError(message=f"Reload failed, nothing changed: {exc.message}",
                         hint=(exc.hint or "") + " The current index keeps serving.")
    except SeedSyncError as exc:
        log.error("reload abandoned: %s", exc.message)
        _keep_pending(ctx, changes)
        return UserError(message=f"Reload failed, nothing changed: {exc.message}.",
                         hint="Check that the seeds folder can be written by the server's "
                              "user. The current index keeps serving.")
    except _NotRecorded:
        log.exception("reload abandoned: the store could not record the new index version")
        _keep_pending(ctx, changes)
        return UserError(message="Reload failed, nothing changed: the store could not record "
                                 "the new index version, so the other replicas would not follow.",
                         hint="Check the store (`briefbot doctor`) and try again. The current "
                              "index keeps serving.")
    log.info("reloaded seeds", extra={"version": report.version, "seconds": report.seconds,
                                      "added": len(report.added), "changed": len(report.changed),
                                      "removed": len(report.removed)})
    return Notice(title="Seeds reloaded", text="The new index is live.", lines=report.lines(),
                  data={"version": report.version, "added": report.added,
                        "changed": report.changed, "removed": report.removed,
                        "people_added": report.people_added, "seconds": report.seconds})


async def _reload_recorded(req: CommandRequest, ctx: AppContext, store: Store,
                           changes: Sequence[ArticleChange]) -> ReloadReport:
    """Catch up with the store, build, record the version (and `changes`), swap."""
    mirror = ctx.seed_mirror
    changes = [*changes, *_pending(ctx, {c.name for c in changes})]
    synced = await mirror.sync(store.articles, skip={c.name for c in changes})
    log.debug("seeds folder in step with the store's version %s; building", synced.version)
    note = f"reload by {req.platform}"

    async def publish() -> int:
        try:
            if changes:
                return await store.articles.record(changes, note=note)
            return int(await store.bump_index_version(note))
        except Exception as exc:
            raise _NotRecorded from exc

    # Build first (a broken file must not announce a new version to the replicas), then
    # record the version, then swap: if the store cannot record it, this replica keeps
    # serving the old index, as the others do.
    report = await reload_index(ctx.index, ctx.settings, publish=publish)
    mirror.recorded(changes)
    # Versions commit in order, so the store now lists every article recorded before ours:
    # what another replica recorded while this one built, or an older name of an article
    # just recorded. If that changes the folder, the version poller rebuilds, woken now.
    try:
        after = await mirror.sync(store.articles)
    except Exception:
        log.warning("could not bring the seeds folder in step after the reload; the version "
                    "poller tries again", exc_info=True)
        mirror.behind = True
    else:
        if after.written or after.deleted:
            mirror.behind = True
    if mirror.behind and ctx.background.index_poller is not None:
        ctx.background.index_poller.wake()
    return report


def _keep_pending(ctx: AppContext, changes: Sequence[ArticleChange]) -> None:
    """Files written here but not recorded: the next reload on this replica records them."""
    if ctx.store is not None:
        ctx.seed_mirror.pending.update({c.name: c.by for c in changes if not c.removed})


def _pending(ctx: AppContext, already: set[str]) -> list[ArticleChange]:
    """The pending files still there, as changes to record (re-read: they may have moved)."""
    mirror = ctx.seed_mirror
    found = []
    for name, by in list(mirror.pending.items()):
        if name in already:
            continue
        try:
            found.append(change_from_file(mirror.seeds_dir / name, by=by))
        except (OSError, UnicodeDecodeError):
            mirror.pending.pop(name, None)  # gone or unreadable: nothing to record
    return found


def added_by(req: CommandRequest) -> str:
    """Who an article change is recorded as coming from: `slack:U123`, `cli:alice`."""
    return f"{req.platform}:{req.user_id}" if req.user_id else req.platform
