"""The PlatformAdapter for Discord: one gateway connection, replies over REST.

Each slash command and button turns an Interaction into a CommandRequest, calls `dispatch`,
and renders the Result as embeds (`render`). Replies go out within Discord's 3 seconds: fast
commands answer at once, slow ones defer first. Nothing the bot sends may mention anyone.

Replicas sharing one bot token each get every interaction over their own gateway session;
with a shared store (PostgreSQL) each one claims the interaction id first, and only the
replica that wins the claim answers (`interactions.claim_interaction`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from aiohttp import web

from bot.adapters.discord.buttons import ShareButton, answer_view
from bot.adapters.discord.client import BriefClient, login
from bot.adapters.discord.commands import DEFERRED
from bot.adapters.discord.interactions import send_error
from bot.adapters.discord.messages import on_message
from bot.adapters.discord.render import NO_MENTIONS, render_messages
from bot.adapters.discord.requests import to_request
from bot.adapters.discord.settings import apply_urls, discord_token
from bot.adapters.discord.sync import is_synced, sync_commands
from bot.context import AppContext
from bot.models import Answer, Briefing, Notice, Result
from bot.platform import DeliveryError
from bot.settings import SettingsError
from handlers.errors import APOLOGY
from handlers.feedback import flush_questions
from handlers.registry import dispatch

log = logging.getLogger("briefbot.discord")

REMEMBERED_ANSWERS = 2000
ACCESS_HINT = (
    "Invite the bot to that channel, or give its role View Channel, Send Messages and "
    "Embed Links there (Channel settings → Permissions)."
)
POST_PERMISSIONS = (("view_channel", "View Channel"), ("send_messages", "Send Messages"),
                    ("embed_links", "Embed Links"))
AUTHENTICATION_FAILED = 4004  # the gateway's close code for a refused token


@dataclass
class _Remembered:
    """What a button on an answer needs later: how to recompute it, and what it said."""

    source: str
    text: str
    answer: Answer


class DiscordAdapter:
    """The PlatformAdapter for Discord: one gateway connection, replies over REST."""

    name = "discord"

    def __init__(self, ctx: AppContext, token: str) -> None:
        self.ctx = ctx
        self._token = token
        self.client = BriefClient(self)
        self._task: asyncio.Task[None] | None = None
        self._answers: OrderedDict[str, _Remembered] = OrderedDict()
        self._app_permissions: dict[str, discord.Permissions] = {}
        self._failed: asyncio.Future[Exception] | None = None

    @classmethod
    def from_settings(cls, ctx: AppContext) -> DiscordAdapter:
        token = discord_token(ctx.settings)
        apply_urls(ctx.settings)
        return cls(ctx, token)

    def attach_routes(self, app: web.Application) -> None:
        """Nothing: Discord reaches the bot over the gateway, not over our HTTP port."""

    async def start(self) -> None:
        """Log in, sync commands if they changed, then run the gateway in a task."""
        apply_urls(self.ctx.settings)
        await login(self.client, self._token)
        await self.sync_if_changed()
        self._task = asyncio.create_task(self.client.connect(reconnect=True),
                                         name="discord-gateway")
        self._task.add_done_callback(self._gateway_ended)

    @property
    def connected(self) -> bool:
        """The gateway session is up (READY seen, websocket open); /healthz says 503 if not."""
        ws = self.client.ws
        return bool(self.client.is_ready() and not self.client.is_closed()
                    and ws is not None and ws.open)

    async def wait_failed(self) -> Exception:
        """Returns when the gateway gave up for good (discord.py reconnects on everything
        else): its token refused, intents not allowed. Waits forever otherwise, also after
        `stop`."""
        return await asyncio.shield(self._failure())

    def _failure(self) -> asyncio.Future[Exception]:
        if self._failed is None:
            self._failed = asyncio.get_running_loop().create_future()
        return self._failed

    def _gateway_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or (error := task.exception()) is None:
            return  # stopped on purpose
        log.error("the Discord gateway connection ended: %s", error, exc_info=error)
        failed = self._failure()
        if not failed.done():
            failed.set_result(_refusal(error))

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            task, self._task = self._task, None
            # Whatever ended the gateway task was already logged by _gateway_ended.
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5)

    async def sync_if_changed(self) -> None:
        """Sync at start only when the command set differs from the last one synced."""
        synced, guild_id = is_synced(self.client, self.ctx.settings.data_dir)
        if synced:
            log.info("discord commands unchanged since the last sync; not syncing")
            return
        try:
            count = await sync_commands(self.client, self.ctx.settings.data_dir, guild_id)
        except (discord.HTTPException, OSError) as exc:  # serve on with the commands Discord has
            log.warning("discord command sync failed (%s); run `briefbot discord-sync`", exc)
            return
        log.info("synced %d discord commands %s", count,
                 f"to guild {guild_id}" if guild_id else "globally")

    async def check_channel(self, channel_id: str) -> str | None:
        """Why the bot could not post the briefing in a channel, if it can tell (for subscribe).

        Every interaction carries the bot's own permissions in its channel; the last ones seen
        for the channel are the answer. A channel never seen gives no verdict.
        """
        perms = self._app_permissions.get(channel_id)
        if perms is None or perms.administrator:
            return None
        missing = [label for flag, label in POST_PERMISSIONS if not getattr(perms, flag)]
        if not missing:
            return None
        return f"I can't post in this channel: I lack {', '.join(missing)} here. {ACCESS_HINT}"

    async def post_briefing(self, channel_id: str, briefing: Briefing) -> None:
        if not channel_id.isdigit():
            raise DeliveryError(f"{channel_id!r} is not a Discord channel id.", permanent=True)
        if not self.client.user:
            raise DeliveryError("Discord is not connected yet.", permanent=False)
        channel = self.client.get_partial_messageable(int(channel_id))
        for embeds in render_messages(briefing):
            try:
                await channel.send(embeds=embeds, allowed_mentions=NO_MENTIONS)
            except (discord.Forbidden, discord.NotFound) as exc:
                raise DeliveryError(
                    f"Discord refused the post in channel {channel_id} ({exc.status}: "
                    f"{exc.text}). {ACCESS_HINT}", permanent=True) from exc
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                raise DeliveryError(f"Posting to Discord channel {channel_id} failed: {exc}",
                                    permanent=False) from exc

    # --- interaction handling, called by the commands and buttons (interactions.Serving) ---

    async def run(self, interaction: discord.Interaction[Any], command: str, text: str) -> None:
        """One slash command: defer if it may be slow, dispatch, reply."""
        req = to_request(interaction, command, text)
        if req.channel_id:
            self._app_permissions[req.channel_id] = interaction.app_permissions
        if command in DEFERRED:
            await interaction.response.defer(ephemeral=True, thinking=True)
        result = await dispatch(req, self.ctx)
        if isinstance(result, Answer):
            self.remember(result, "who" if command == "who" else "ask", text)
        await self.reply(interaction, result)

    async def share(self, interaction: discord.Interaction[Any], source: str, answer_id: str,
                    text: str) -> None:
        """'Share in channel': the share handler recomputes the answer and posts it once."""
        remembered = self._answers.get(answer_id)
        text = text or (remembered.text if remembered else "") or await self._asked(answer_id)
        if not text:
            await send_error(interaction, "That answer is too old to share; ask again and "
                                          "share the new answer.")
            return
        req = to_request(interaction, "share", text,
                         {"answer_id": answer_id, "source_command": source})
        result = await dispatch(req, self.ctx)
        if isinstance(result, Answer):
            self.remember(result, source, text)
        await self.reply(interaction, result, public=isinstance(result, Answer))

    async def _asked(self, answer_id: str) -> str:
        """The question behind an answer this process no longer remembers (another replica
        answered it, or we restarted), from the questions the store keeps for /gaps."""
        store = self.ctx.store
        if store is None:
            return ""
        await flush_questions(self.ctx)
        known = await store.question_for(answer_id)
        return known[0] if known else ""

    async def vote(self, interaction: discord.Interaction[Any], direction: str,
                   answer_id: str) -> None:
        options = {"answer_id": answer_id}
        remembered = self._answers.get(answer_id)
        if remembered is not None:
            answer = remembered.answer
            options |= {"question": answer.question, "intent": answer.intent,
                        "citations": json.dumps([c.model_dump(mode="json")
                                                 for c in answer.citations])}
        result = await dispatch(to_request(interaction, "vote", direction, options), self.ctx)
        await self.reply(interaction, result)

    async def guarded(self, interaction: discord.Interaction[Any],
                      work: Awaitable[None]) -> None:
        """Run a button's work; an unexpected failure still reaches the user as a sentence."""
        try:
            await work
        except Exception:
            log.exception("discord button failed", extra={"platform": "discord"})
            await send_error(interaction, APOLOGY)

    async def on_message(self, message: discord.Message) -> None:
        """A message the gateway delivered: answered if it is addressed to the bot."""
        if self.client.user is not None:  # always, once logged in
            await on_message(self, self.client.user.id, message)

    async def reply(self, interaction: discord.Interaction[Any], result: Result, *,
                    public: bool = False) -> None:
        """Send a result: ephemeral unless public; buttons under answers; split if long."""
        public = public or (isinstance(result, Notice) and result.public)
        view = self.answer_view(result, shareable=not public) \
            if isinstance(result, Answer) else None
        messages = render_messages(result)
        if public and interaction.response.is_done():
            # A deferred ephemeral "thinking" message waits; settle it, then post publicly.
            await interaction.edit_original_response(content="Posted in the channel.")
        for i, embeds in enumerate(messages):
            kwargs: dict[str, Any] = {"embeds": embeds, "ephemeral": not public,
                                      "allowed_mentions": NO_MENTIONS}
            if view is not None and i == len(messages) - 1:
                kwargs["view"] = view
            if interaction.response.is_done():
                await interaction.followup.send(**kwargs)
            else:
                await interaction.response.send_message(**kwargs)

    def answer_view(self, answer: Answer, *, shareable: bool) -> discord.ui.View:
        """The buttons under an answer; Share only where the answer is not public already."""
        remembered = self._answers.get(answer.answer_id)
        share = None
        if shareable and not answer.abstained and remembered is not None:
            share = ShareButton(remembered.source, answer.answer_id, remembered.text)
        return answer_view(answer.answer_id, share)

    def remember(self, answer: Answer, source: str, text: str) -> None:
        """Keep what the buttons under `answer` need (the last REMEMBERED_ANSWERS answers)."""
        self._answers[answer.answer_id] = _Remembered(source, text, answer)
        self._answers.move_to_end(answer.answer_id)
        while len(self._answers) > REMEMBERED_ANSWERS:
            self._answers.popitem(last=False)


def _refusal(error: BaseException) -> Exception:
    """The gateway's last word as the error serve stops with (one line for a bad token)."""
    if isinstance(error, discord.ConnectionClosed) and error.code == AUTHENTICATION_FAILED:
        return SettingsError("DISCORD_TOKEN: the Discord gateway refused the token (4004); "
                             "reset it on the developer portal's Bot page and set it again")
    if isinstance(error, Exception):
        return error
    return RuntimeError(f"the Discord gateway connection ended: {error!r}")

