"""Discord adapter: discord.py 2.x application commands over the platform-neutral handlers.

Each slash command, button and autocomplete turns an Interaction into a CommandRequest, calls
`dispatch`, and renders the Result as embeds (bot.adapters.discord_render). Replies go out
within Discord's 3 seconds: fast commands answer at once, slow ones defer first. Nothing the
bot sends may mention anyone. Command sync is explicit (`briefbot discord-sync`) or happens at
start only when the command set changed since the last sync (Discord rate-limits syncs).

Replicas sharing one bot token each get every interaction over their own gateway session;
with a shared store (PostgreSQL) each one claims the interaction id first, and only the
replica that wins the claim answers (`claim_interaction`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import sys
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import discord
import yarl
from aiohttp import web
from discord import app_commands
from rapidfuzz import fuzz, process, utils

from bot.adapters.discord_render import NO_MENTIONS, render_embeds, render_messages
from bot.errors import UserFacingError
from bot.models import Answer, Briefing, Notice, Result, UserError
from bot.platform import DeliveryError, Platform
from bot.settings import Settings, SettingsError
from handlers.context import AppContext
from handlers.errors import APOLOGY
from handlers.feedback import flush_questions
from handlers.registry import dispatch
from handlers.requests import CommandRequest
from handlers.usage import MAX_QUESTION_CHARS

log = logging.getLogger("briefbot.discord")

# A bot token is three base64url parts: user id, timestamp, HMAC.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{10,}")
SYNC_STATE_FILE = "discord-commands.json"
DEFERRED = frozenset({"reload", "gaps", "brief", "add"})  # may take longer than Discord's 3 s
MAX_URL_CHARS = 2000
REMEMBERED_ANSWERS = 2000
CUSTOM_ID_MAX = 100
ACCESS_HINT = (
    "Invite the bot to that channel, or give its role View Channel, Send Messages and "
    "Embed Links there (Channel settings → Permissions)."
)
POST_PERMISSIONS = (("view_channel", "View Channel"), ("send_messages", "Send Messages"),
                    ("embed_links", "Embed Links"))
CLAIM_TIMEOUT = 1.5  # seconds of Discord's 3 a claim may take before we answer regardless


# --- settings ------------------------------------------------------------------------------


def discord_token(settings: Settings) -> str:
    """DISCORD_TOKEN, checked for shape so a pasted mistake stops start-up with one line."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise SettingsError(
            "DISCORD_TOKEN: not set (copy the bot token from the Discord developer portal, "
            "Bot → Reset Token)"
        )
    token = settings.discord_token.get_secret_value().strip()
    if not TOKEN_RE.fullmatch(token):
        raise SettingsError(
            "DISCORD_TOKEN: malformed (expected the bot token from the developer portal's Bot "
            "page: three dot-separated parts, without a 'Bot ' prefix)"
        )
    return token


def apply_urls(settings: Settings) -> None:
    """Point discord.py at DISCORD_API_URL / DISCORD_GATEWAY_URL (class-wide, before connecting)."""
    discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def login(client: discord.Client, token: str) -> None:
    """Log in over REST, turning a rejected token or an unreachable API into one sentence."""
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise SettingsError(
            "DISCORD_TOKEN: Discord rejected the token (401); reset it on the developer "
            "portal's Bot page and set it again"
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise UserFacingError(
            f"Cannot reach Discord's API at {discord.http.Route.BASE}: {exc}",
            hint="Check the network, or DISCORD_API_URL if you set it.",
        ) from None


# --- translating interactions -------------------------------------------------------------


def to_request(
    interaction: discord.Interaction[Any], command: str, text: str,
    options: dict[str, str] | None = None,
) -> CommandRequest:
    """Who asked, where and with which rights, as the handlers understand it."""
    perms = interaction.permissions  # resolved in the channel, sent with the interaction
    user = interaction.user
    return CommandRequest(
        command=command,
        text=text,
        platform="discord",
        user_id=str(user.id),
        user_name=user.display_name,
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
        workspace_id=str(interaction.guild_id) if interaction.guild_id else None,
        platform_admin=perms.administrator or perms.manage_guild,
        can_manage_channel=perms.administrator or perms.manage_channels,
        options=options or {},
    )


def best_matches(current: str, choices: list[str], limit: int = 25) -> list[str]:
    """Autocomplete: fuzzy substring matches (`ter` finds Fyodor Tertitskiy), best first."""
    current = current.strip()
    if not current:
        return choices[:limit]
    hits = process.extract(current, choices, scorer=fuzz.partial_ratio,
                           processor=utils.default_process, score_cutoff=75, limit=None)
    needle = current.casefold()

    def rank(hit: tuple[str, float, int]) -> tuple[float, bool, int]:
        words = hit[0].casefold().split()
        return (-hit[1], not any(w.startswith(needle) for w in words), hit[2])

    return [hit[0] for hit in sorted(hits, key=rank)[:limit]]


@cache
def _zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _choices(names: list[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]


def _adapter(interaction: discord.Interaction[Any]) -> DiscordAdapter:
    adapter = getattr(interaction.client, "adapter", None)
    if adapter is None:
        raise RuntimeError("this client only syncs commands; it does not serve them")
    return adapter


async def claim_interaction(interaction: discord.Interaction[Any]) -> bool:
    """Whether this replica handles the interaction: the one that claims its id in a shared
    store first. Without a store, or with one only this process uses (SQLite), there is no
    one to race and no write is spent. A store that fails or is slow must not lose the
    user's interaction, so then we answer (another replica may too; Discord keeps the first).
    """
    adapter = getattr(interaction.client, "adapter", None)
    store = adapter.ctx.store if adapter is not None else None
    if not getattr(store, "shared", False):  # no store, or one only this process uses
        return True
    try:
        won = await asyncio.wait_for(store.claim_once(f"interaction:discord:{interaction.id}"),
                                     CLAIM_TIMEOUT)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0][:200] or "no detail"
        log.warning("could not claim a discord interaction in the store (%s: %s); "
                    "answering it anyway", type(exc).__name__, reason,
                    extra={"platform": "discord", "interaction": interaction.id})
        return True
    if not won:
        log.debug("discord interaction %s is answered by another replica", interaction.id)
    return bool(won)


# --- buttons ------------------------------------------------------------------------------


class ShareButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(r"bb:share:(?P<source>ask|who):(?P<answer_id>\w+):(?P<text>.*)", re.S),
):
    """'Share in channel': carries the question when it fits in the custom id (100 chars)."""

    def __init__(self, source: str, answer_id: str, text: str = "") -> None:
        custom_id = f"bb:share:{source}:{answer_id}:{text}"
        if len(custom_id) > CUSTOM_ID_MAX:
            custom_id = f"bb:share:{source}:{answer_id}:"  # the question waits in memory
        super().__init__(discord.ui.Button(
            label="Share in channel", style=discord.ButtonStyle.primary, custom_id=custom_id))
        self.source, self.answer_id, self.text = source, answer_id, text

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /) -> ShareButton:
        return cls(match["source"], match["answer_id"], match["text"])

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await claim_interaction(interaction)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _adapter(interaction).guarded(
            interaction, _adapter(interaction).share(interaction, self.source, self.answer_id,
                                                     self.text))


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(r"bb:vote:(?P<direction>up|down):(?P<answer_id>\w+)"),
):
    """👍 / 👎 on an answer, for the curators' gap report."""

    def __init__(self, direction: str, answer_id: str) -> None:
        super().__init__(discord.ui.Button(
            emoji="👍" if direction == "up" else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"bb:vote:{direction}:{answer_id}"))
        self.direction, self.answer_id = direction, answer_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /) -> VoteButton:
        return cls(match["direction"], match["answer_id"])

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await claim_interaction(interaction)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        adapter = _adapter(interaction)
        await adapter.guarded(interaction, adapter.vote(interaction, self.direction,
                                                        self.answer_id))


# --- commands -----------------------------------------------------------------------------


async def _who_autocomplete(interaction: discord.Interaction[Any],
                            current: str) -> list[app_commands.Choice[str]]:
    names = _adapter(interaction).ctx.index.current.people_names()
    return _choices(best_matches(current, names))


async def _zone_autocomplete(interaction: discord.Interaction[Any],
                             current: str) -> list[app_commands.Choice[str]]:
    return _choices(best_matches(current, _zones()))


def add_commands(tree: app_commands.CommandTree[Any]) -> None:
    """The command set: /ask, /who, /brief today|subscribe|unsubscribe|status, /reload, /add,
    /gaps."""

    async def run(interaction: discord.Interaction[Any], command: str, text: str) -> None:
        await _adapter(interaction).run(interaction, command, text)

    @tree.command(name="ask", description="Ask a question about the articles")
    @app_commands.describe(question="e.g. who is Tertitskiy · why might the deal fail · help")
    async def ask(interaction: discord.Interaction[Any],
                  question: app_commands.Range[str, 1, MAX_QUESTION_CHARS]) -> None:
        await run(interaction, "ask", question)

    @tree.command(name="who", description="A person's card: role, quotes, citations")
    @app_commands.describe(name="A name from the articles, e.g. Tertitskiy")
    @app_commands.autocomplete(name=_who_autocomplete)
    async def who(interaction: discord.Interaction[Any],
                  name: app_commands.Range[str, 1, MAX_QUESTION_CHARS]) -> None:
        await run(interaction, "who", name)

    brief = app_commands.Group(name="brief", description="The daily briefing for this channel")

    @brief.command(name="today", description="Show today's briefing")
    async def today(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "brief", "")

    @brief.command(name="subscribe", description="Post the briefing here every day")
    @app_commands.describe(time="Local time, HH:MM (24 h), e.g. 08:30",
                           zone="IANA time zone, e.g. Europe/Berlin (default: the server's)")
    @app_commands.autocomplete(zone=_zone_autocomplete)
    async def subscribe(interaction: discord.Interaction[Any], time: str,
                        zone: str | None = None) -> None:
        await run(interaction, "brief", " ".join(["subscribe", time.strip(), (zone or "").strip()])
                  .strip())

    @brief.command(name="unsubscribe", description="Stop the daily briefing in this channel")
    async def unsubscribe(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "brief", "unsubscribe")

    @brief.command(name="status", description="When the next briefing is posted here")
    async def status(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "brief", "status")

    tree.add_command(brief)

    @tree.command(name="reload", description="Admins: re-read the seed articles")
    @app_commands.default_permissions(manage_guild=True)
    async def reload(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "reload", "")

    @tree.command(name="add", description="Admins: add an article by its URL")
    @app_commands.describe(url="The article's address, e.g. https://www.example.com/news/…")
    @app_commands.default_permissions(manage_guild=True)
    async def add(interaction: discord.Interaction[Any],
                  url: app_commands.Range[str, 1, MAX_URL_CHARS]) -> None:
        await run(interaction, "add", url)

    @tree.command(name="gaps", description="Admins: questions the articles could not answer")
    @app_commands.default_permissions(manage_guild=True)
    async def gaps(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "gaps", "")


async def send_error(interaction: discord.Interaction[Any], message: str) -> None:
    """A short ephemeral sentence, whether or not the interaction was answered already."""
    embeds = render_embeds(UserError(message=message))
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embeds=embeds, ephemeral=True,
                                            allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(embeds=embeds, ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
    except Exception:  # the last resort: nothing more can reach this user
        log.warning("could not tell the user about an error", exc_info=True)


class BriefTree(app_commands.CommandTree):
    """Turns every command error into a sentence instead of "The application did not respond".

    Commands and autocomplete alike are answered only by the replica that claims them.
    """

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await claim_interaction(interaction)

    async def on_error(self, interaction: discord.Interaction[Any],
                       error: app_commands.AppCommandError, /) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            message = ("This command changed since it was registered with Discord; "
                       "an admin should run `briefbot discord-sync`.")
        elif isinstance(error, app_commands.TransformerError):
            message = f"I could not read one of the options: {error}"
        else:
            log.error("discord command failed", exc_info=error,
                      extra={"platform": "discord", "interaction": interaction.id})
            message = APOLOGY
        await send_error(interaction, message)


class BriefClient(discord.Client):
    """A plain client with our command tree; interactions need no privileged intents."""

    def __init__(self, adapter: DiscordAdapter | None) -> None:
        # The bot never joins voice: skip discord.py's start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(intents=discord.Intents(guilds=True), allowed_mentions=NO_MENTIONS)
        self.adapter = adapter
        self.tree = BriefTree(self)
        add_commands(self.tree)
        self.add_dynamic_items(ShareButton, VoteButton)


# --- command sync -------------------------------------------------------------------------


def command_hash(tree: app_commands.CommandTree[Any]) -> str:
    """A fingerprint of what would be synced, to skip syncing an unchanged command set."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _state_path(data_dir: Path) -> Path:
    return data_dir / SYNC_STATE_FILE


def read_sync_state(data_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(_state_path(data_dir).read_text()))
    except (OSError, ValueError):
        return {}


def write_sync_state(data_dir: Path, state: dict[str, Any]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    _state_path(data_dir).write_text(json.dumps(state, indent=2) + "\n")


async def sync_commands(client: BriefClient, data_dir: Path, guild_id: str | None) -> int:
    """Register the commands (globally, or in one guild: instant) and remember the hash."""
    guild = discord.Object(int(guild_id)) if guild_id else None
    if guild is not None:
        client.tree.copy_global_to(guild=guild)
    synced = await client.tree.sync(guild=guild)
    write_sync_state(data_dir, {"application_id": str(client.application_id),
                                "guild_id": guild_id, "hash": command_hash(client.tree)})
    return len(synced)


def sync_commands_cli(settings: Settings, guild_id: str | None = None) -> int:
    """`briefbot discord-sync [--guild ID]`."""
    token = discord_token(settings)
    if guild_id is not None and not guild_id.isdigit():
        raise UserFacingError(
            f"--guild: expected a numeric guild id, got {guild_id!r}",
            hint="Turn on Developer Mode, right-click the server → Copy Server ID.")
    return asyncio.run(_sync_cli(settings, token, guild_id))


async def _sync_cli(settings: Settings, token: str, guild_id: str | None) -> int:
    apply_urls(settings)
    client = BriefClient(None)
    try:
        await login(client, token)
        count = await sync_commands(client, settings.data_dir, guild_id)
    except discord.Forbidden:
        print(f"briefbot: Discord refused the sync for guild {guild_id}: invite the bot there "
              "with the applications.commands scope first.", file=sys.stderr)
        return 1
    except discord.HTTPException as exc:
        print(f"briefbot: Discord refused the command sync ({exc.status}): {exc.text}",
              file=sys.stderr)
        return 1
    finally:
        await client.close()
    where = f"to guild {guild_id}" if guild_id else "globally"
    print(f"Synced {count} commands {where}.")
    return 0


# --- the adapter --------------------------------------------------------------------------


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
        self._task.add_done_callback(_gateway_ended)

    @property
    def connected(self) -> bool:
        """The gateway session is up (READY seen, websocket open); /healthz says 503 if not."""
        ws = self.client.ws
        return bool(self.client.is_ready() and not self.client.is_closed()
                    and ws is not None and ws.open)

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            # Whatever ended the gateway task was already logged by _gateway_ended.
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5)
            self._task = None

    async def sync_if_changed(self) -> None:
        """Sync at start only when the command set differs from the last one synced."""
        state = read_sync_state(self.ctx.settings.data_dir)
        same_app = state.get("application_id") == str(self.client.application_id)
        if same_app and state.get("hash") == command_hash(self.client.tree):
            log.info("discord commands unchanged since the last sync; not syncing")
            return
        guild_id = state.get("guild_id") if same_app else None
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

    # --- interaction handling, called by the commands and buttons above ---

    async def run(self, interaction: discord.Interaction[Any], command: str, text: str) -> None:
        """One slash command: defer if it may be slow, dispatch, reply."""
        req = to_request(interaction, command, text)
        if req.channel_id:
            self._app_permissions[req.channel_id] = interaction.app_permissions
        if command in DEFERRED:
            await interaction.response.defer(ephemeral=True, thinking=True)
        result = await dispatch(req, self.ctx)
        if isinstance(result, Answer):
            self._remember(result, "who" if command == "who" else "ask", text)
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
            self._remember(result, source, text)
        await self.reply(interaction, result, public=isinstance(result, Answer))

    async def _asked(self, answer_id: str) -> str:
        """The question behind an answer this process no longer remembers (another replica
        answered it, or we restarted), from the questions the store keeps for /gaps."""
        store = self.ctx.store
        if store is None or not hasattr(store, "question_for"):
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

    async def guarded(self, interaction: discord.Interaction[Any], work: Any) -> None:
        """Run a button's work; an unexpected failure still reaches the user as a sentence."""
        try:
            await work
        except Exception:
            log.exception("discord button failed", extra={"platform": "discord"})
            await send_error(interaction, APOLOGY)

    async def reply(self, interaction: discord.Interaction[Any], result: Result, *,
                    public: bool = False) -> None:
        """Send a result: ephemeral unless public; buttons under answers; split if long."""
        public = public or (isinstance(result, Notice) and result.public)
        view = self._answer_view(result, shareable=not public) \
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

    def _answer_view(self, answer: Answer, *, shareable: bool) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        remembered = self._answers.get(answer.answer_id)
        if shareable and not answer.abstained and remembered is not None:
            view.add_item(ShareButton(remembered.source, answer.answer_id, remembered.text))
        view.add_item(VoteButton("up", answer.answer_id))
        view.add_item(VoteButton("down", answer.answer_id))
        # The buttons are dispatched by custom id (add_dynamic_items), so the view itself need
        # not be kept listening: stopping it keeps discord.py from holding a timer per message.
        view.stop()
        return view

    def _remember(self, answer: Answer, source: str, text: str) -> None:
        self._answers[answer.answer_id] = _Remembered(source, text, answer)
        self._answers.move_to_end(answer.answer_id)
        while len(self._answers) > REMEMBERED_ANSWERS:
            self._answers.popitem(last=False)


def _gateway_ended(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        if (exc := task.exception()) is not None:
            log.error("the Discord gateway connection ended: %s", exc, exc_info=exc)


PLATFORM = Platform(
    name="discord",
    check_settings=discord_token,
    create=DiscordAdapter.from_settings,
    configured=lambda settings: settings.discord_token is not None,
)


PLATFORM = Platform(
    name="discord",
    check_settings=discord_token,
    create=DiscordAdapter.from_settings,
    configured=lambda settings: settings.discord_token is not None,
)
