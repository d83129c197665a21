"""`reload`: admins re-read the seeds while the bot keeps answering."""

from __future__ import annotations

import logging

from bot.context import AppContext
from bot.engine.reload import reload_index
from bot.errors import NotAllowedError, SeedError
from bot.models import Notice, Result, UserError
from handlers.requests import CommandRequest

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


async def reload(req: CommandRequest, ctx: AppContext) -> Result:
    require_admin(req, ctx, "reload the seeds")
    return await reload_seeds(req, ctx)


async def reload_seeds(req: CommandRequest, ctx: AppContext) -> Notice | UserError:
    """The reload itself, for a caller that checked the rights (`/reload`, `/add`): the
    report as a Notice, or the sentence saying why nothing changed."""
    try:
        if ctx.store is not None:
            store = ctx.store

            async def publish() -> int:
                try:
                    return int(await store.bump_index_version(f"reload by {req.platform}"))
                except Exception as exc:
                    raise _NotRecorded from exc

            # Build first (a broken file must not announce a new version to the replicas),
            # then record the version, then swap: if the store cannot record it, this
            # replica keeps serving the old index, as the others do.
            report = await reload_index(ctx.index, ctx.settings, publish=publish)
        else:
            report = await reload_index(ctx.index, ctx.settings)
    except SeedError as exc:
        log.warning("reload refused: %s", exc.message)
        return UserError(message=f"Reload failed, nothing changed: {exc.message}",
                         hint=(exc.hint or "") + " The current index keeps serving.")
    except _NotRecorded:
        log.exception("reload abandoned: the store could not record the new index version")
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
