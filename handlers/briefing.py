"""`brief`: today's briefing, and the channel's daily subscription.

    /brief                               today's briefing
    /brief subscribe 08:30 [Europe/Berlin]   post it here every day at 08:30 (zone optional)
    /brief unsubscribe
    /brief status                        the next post time, in the channel's zone
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.context import AppContext
from bot.errors import NotAllowedError, UserFacingError
from bot.models import Notice, Result
from bot.schedule import DailyTime, ScheduleInputError, next_post_time, parse_hhmm, parse_zone
from handlers.requests import CommandRequest

log = logging.getLogger("briefbot.briefing")

USAGE = "`/brief`, `/brief subscribe 08:30 Europe/Berlin`, `/brief unsubscribe`, `/brief status`"


def _when(at: datetime, zone: str) -> str:
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %H:%M %Z} ({zone})"


def _channel(req: CommandRequest, ctx: AppContext) -> str:
    if not req.channel_id or req.platform == "cli":
        raise UserFacingError(
            "Subscriptions belong to a channel.",
            hint="Type `/brief subscribe 08:30 Europe/Berlin` in a Slack or Discord channel.",
        )
    if ctx.store is None:
        raise UserFacingError("Subscriptions need the store, and this briefbot runs without one.")
    return req.channel_id


def _require_manager(req: CommandRequest, ctx: AppContext) -> None:
    if req.can_manage_channel or ctx.is_admin(req.platform, req.user_id, req.platform_admin):
        return
    log.info("subscription change refused",
             extra={"platform": req.platform, "user": req.user_id, "channel": req.channel_id})
    raise NotAllowedError(
        "Only admins or people who can manage this channel can change its daily briefing.",
        hint="Ask a channel manager, or anyone can see the schedule with `/brief status`.",
    )


async def _check_can_post(req: CommandRequest, ctx: AppContext, channel_id: str) -> None:
    """The platform says whether briefbot may post there (None: not connected here)."""
    adapter = ctx.platforms.get(req.platform)
    if adapter is not None and (problem := await adapter.check_channel(channel_id)):
        raise UserFacingError(problem)


async def subscribe(req: CommandRequest, ctx: AppContext, args: list[str]) -> Result:
    channel = _channel(req, ctx)
    _require_manager(req, ctx)
    if not args or len(args) > 2:
        raise UserFacingError("Say when: `/brief subscribe 08:30` or "
                              "`/brief subscribe 08:30 Europe/Berlin`.")
    try:
        hour, minute = parse_hhmm(args[0])
        zone = parse_zone(args[1] if len(args) == 2 else ctx.settings.default_timezone)
    except ScheduleInputError as exc:
        raise UserFacingError(str(exc), hint=f"For example: `/brief subscribe 08:30 "
                                             f"{ctx.settings.default_timezone}`.") from None
    await _check_can_post(req, ctx, channel)
    sub = await ctx.store.upsert_subscription(
        req.platform, channel, req.workspace_id, hour, minute, zone, req.user_id
    )
    daily = DailyTime(hour, minute, zone)
    return Notice(
        title="Daily briefing subscribed",
        text=f"This channel gets the briefing every day at {daily.hhmm} {zone}.",
        lines=[f"Next: {_when(next_post_time(ctx.clock(), sub.daily), zone)}"],
        public=True,
        data={"hour": hour, "minute": minute, "zone": zone},
    )


async def unsubscribe(req: CommandRequest, ctx: AppContext) -> Result:
    channel = _channel(req, ctx)
    _require_manager(req, ctx)
    if not await ctx.store.delete_subscription(req.platform, channel):
        return Notice(text="This channel has no daily briefing to stop.")
    return Notice(title="Daily briefing stopped",
                  text="This channel no longer gets the daily briefing.", public=True)


async def status(req: CommandRequest, ctx: AppContext) -> Result:
    channel = _channel(req, ctx)
    sub = await ctx.store.get_subscription(req.platform, channel)
    if sub is None:
        return Notice(text="This channel has no daily briefing.",
                      lines=["Subscribe with `/brief subscribe 08:30 Europe/Berlin`."])
    lines = [f"Next: {_when(next_post_time(ctx.clock(), sub.daily), sub.zone)}"]
    last = await ctx.store.last_delivery(req.platform, channel)
    if last is not None:
        lines.append(f"Last posted: {_when(last.sent_at, sub.zone)}")
    return Notice(
        title="Daily briefing",
        text=f"Every day at {sub.daily.hhmm} {sub.zone}.",
        lines=lines,
        data={"hour": sub.hour, "minute": sub.minute, "zone": sub.zone},
    )


async def brief(req: CommandRequest, ctx: AppContext) -> Result:
    """Today's briefing, or manage this channel's daily subscription."""
    words = req.text.split()
    action, args = (words[0].lower(), words[1:]) if words else ("", [])
    if action == "":
        return ctx.index.current.briefing()
    if action == "subscribe":
        return await subscribe(req, ctx, args)
    if action == "unsubscribe" and not args:
        return await unsubscribe(req, ctx)
    if action == "status" and not args:
        return await status(req, ctx)
    raise UserFacingError(f"`/brief {req.text.strip()}` is not something I can do.",
                          hint=f"Try {USAGE}.")
