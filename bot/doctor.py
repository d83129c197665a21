"""`briefbot doctor`: check settings, seeds, store and platform tokens, and say what to fix.

Each check is one line (ok / FAIL / skip) and every failure carries a sentence telling the
operator what to change. The exit code is 1 when anything failed, so a deploy script or a
container start-up can run it first.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import aiohttp

from bot.errors import SeedError
from bot.observability import redact, register_settings_secrets
from bot.settings import Settings, SettingsError, load_settings

NETWORK_TIMEOUT_S = 10.0
Status = Literal["ok", "FAIL", "skip"]


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "FAIL", detail, fix)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# --- settings ---------------------------------------------------------------------------


def check_settings(overrides: dict[str, Any]) -> tuple[Check, Settings | None]:
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        return _fail("settings", str(exc), "Correct that variable in the environment or in "
                     ".env (see the Configuration table in the README)."), None
    source = "the environment and .env" if Path(".env").is_file() else "the environment"
    return Check("settings", "ok", f"loaded from {source}"), settings


# --- seeds ------------------------------------------------------------------------------




async def check_seeds(settings: Settings) -> Check:
    """Build the index the way `serve` does (off the event loop) and count what it found."""
    return await asyncio.to_thread(_check_seeds, Path(settings.seeds_dir))


def _check_seeds(seeds_dir: Path) -> Check:
    if not seeds_dir.is_dir():
        return _fail("seeds", f"BRIEFBOT_SEEDS_DIR is {seeds_dir}, which is not a folder.",
                     "Create it and put the articles (.txt or .md) in it, or point "
                     "BRIEFBOT_SEEDS_DIR at the folder that has them.")
    try:
        from bot.engine.index import build_index

        index = build_index(seeds_dir)
    except SeedError as exc:
        return _fail("seeds", exc.message,
                     exc.hint or "Fix or remove that file, then run `briefbot doctor` again.")
    except Exception as exc:
        return _fail("seeds", f"indexing {seeds_dir} failed: {type(exc).__name__}: {exc}",
                     "Check the seed files named above; `briefbot index` shows what is read.")
    documents = len(index.articles())
    people = len(index.people_names())
    if documents == 0:
        return _fail("seeds", f"{seeds_dir} has no articles.",
                     "Put the articles (.txt or .md) in BRIEFBOT_SEEDS_DIR.")
    found = f"{_count(documents, 'document')}, {_count(people, 'person', 'people')}"
    return Check("seeds", "ok", f"{found} in {seeds_dir}")


# --- store ------------------------------------------------------------------------------


def _store_fix(settings: Settings, exc: BaseException) -> str:
    url = settings.resolved_database_url
    if isinstance(exc, ModuleNotFoundError | ImportError) or "async" in str(exc).lower():
        return ("DATABASE_URL must name an async driver, e.g. "
                "postgresql+asyncpg://user:password@host:5432/briefbot.")
    if url.startswith("sqlite"):
        return (f"Make BRIEFBOT_DATA_DIR ({settings.data_dir}) a writable folder, or set "
                "DATABASE_URL to a PostgreSQL database.")
    return ("Start PostgreSQL or correct DATABASE_URL "
            "(postgresql+asyncpg://user:password@host:5432/briefbot), and check the password.")


def _store_where(settings: Settings) -> str:
    url = settings.resolved_database_url
    return (f"SQLite file {settings.data_dir / 'briefbot.db'}" if url.startswith("sqlite")
            and not settings.database_url else redact(url))


def store_problem(settings: Settings, exc: BaseException) -> str:
    """Why the store did not open, as one line naming the variable (what `serve` prints)."""
    variable = "DATABASE_URL" if settings.database_url else "BRIEFBOT_DATA_DIR"
    if isinstance(exc, TimeoutError):
        what = "did not answer in time"
    else:
        detail = (str(exc).strip().splitlines() or [""])[0]
        what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return redact(f"{variable}: cannot open {_store_where(settings)}: {what}. "
                  f"{_store_fix(settings, exc)}")


async def check_store(settings: Settings) -> Check:
    try:
        from bot.store import open_store
    except ImportError as exc:
        return Check("store", "skip", f"the store is not available in this build ({exc})")
    where = _store_where(settings)
    try:
        async with asyncio.timeout(NETWORK_TIMEOUT_S):
            store = await open_store(settings)
            try:
                subscriptions = len(await store.list_subscriptions())
            finally:
                await store.close()
    except TimeoutError:
        return _fail("store", f"{where} did not answer within {NETWORK_TIMEOUT_S:.0f} s.",
                     _store_fix(settings, TimeoutError()))
    except Exception as exc:
        return _fail("store", redact(f"cannot open {where}: {type(exc).__name__}: {exc}"),
                     _store_fix(settings, exc))
    return Check("store", "ok", f"{where} ({_count(subscriptions, 'briefing subscription')})")


# --- platforms --------------------------------------------------------------------------

_SLACK_FIXES = {
    "invalid_auth": "SLACK_BOT_TOKEN was rejected: copy the Bot User OAuth Token (xoxb-...) "
    "again from OAuth & Permissions in your app's settings.",
    "not_authed": "SLACK_BOT_TOKEN was not sent; set it.",
    "token_revoked": "This token was revoked: reinstall the app to the workspace and copy the "
    "new Bot User OAuth Token.",
    "account_inactive": "The app was uninstalled or its workspace deactivated: reinstall it.",
}


def _slack_base_url(settings: Settings) -> str:
    url = settings.slack_api_url
    return url if url.endswith("/") else url + "/"


async def check_slack(settings: Settings) -> list[Check]:
    bot_token = settings.slack_bot_token
    app_token = settings.slack_app_token
    if bot_token is None:
        if app_token is not None or settings.slack_signing_secret is not None:
            return [_fail("slack", "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set but "
                          "SLACK_BOT_TOKEN is not.",
                          "Set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...).")]
        return [Check("slack", "skip", "SLACK_BOT_TOKEN is not set")]
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    checks: list[Check] = []
    token = bot_token.get_secret_value()
    if not token.startswith("xoxb-"):
        checks.append(_fail("slack", "SLACK_BOT_TOKEN does not start with xoxb-.",
                            "Use the Bot User OAuth Token from OAuth & Permissions, not a user "
                            "token, the app token or the signing secret."))
    client = AsyncWebClient(token=token, base_url=_slack_base_url(settings),
                            timeout=int(NETWORK_TIMEOUT_S))
    try:
        reply = await client.auth_test()
        checks.append(Check("slack", "ok", f"workspace {reply.get('team')!s} as "
                            f"@{reply.get('user')!s} (bot token accepted)"))
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        checks.append(_fail("slack", f"auth.test answered {error}.",
                            _SLACK_FIXES.get(error, "Check SLACK_BOT_TOKEN and the app's "
                                             "installation in the workspace.")))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        checks.append(_fail("slack", redact(f"cannot reach {settings.slack_api_url}: "
                                            f"{type(exc).__name__}: {exc}"),
                            "Check the network and SLACK_API_URL (normally "
                            "https://slack.com/api/)."))
    checks.append(await _check_slack_mode(settings))
    return checks


async def _check_slack_mode(settings: Settings) -> Check:
    """Socket Mode needs a valid xapp- token; HTTP mode needs the signing secret."""
    app_token = settings.slack_app_token
    if app_token is None:
        if settings.slack_signing_secret is None:
            return _fail("slack", "neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set.",
                         "Set SLACK_APP_TOKEN (xapp-..., Socket Mode: no public URL needed) or "
                         "SLACK_SIGNING_SECRET (HTTP mode: Slack posts to /slack/events).")
        return Check("slack", "ok", "HTTP mode (SLACK_SIGNING_SECRET is set)")
    token = app_token.get_secret_value()
    if not token.startswith("xapp-"):
        return _fail("slack", "SLACK_APP_TOKEN does not start with xapp-.",
                     "Create an app-level token with the connections:write scope under "
                     "Basic Information and use that.")
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(base_url=_slack_base_url(settings), timeout=int(NETWORK_TIMEOUT_S))
    try:
        await client.apps_connections_open(app_token=token)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        return _fail("slack", f"apps.connections.open answered {error}.",
                     "Turn on Socket Mode for the app and use an app-level token with the "
                     "connections:write scope as SLACK_APP_TOKEN.")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return _fail("slack", f"cannot reach {settings.slack_api_url}: {type(exc).__name__}",
                     "Check the network and SLACK_API_URL.")
    return Check("slack", "ok", "Socket Mode (app token accepted)")


async def check_discord(settings: Settings) -> Check:
    if settings.discord_token is None:
        return Check("discord", "skip", "DISCORD_TOKEN is not set")
    token = settings.discord_token.get_secret_value().strip()
    if token.lower().startswith("bot "):
        return _fail("discord", "DISCORD_TOKEN starts with 'Bot '.",
                     "Set DISCORD_TOKEN to the token alone; briefbot adds the 'Bot ' prefix.")
    url = settings.discord_api_url.rstrip("/") + "/users/@me"
    try:
        timeout = aiohttp.ClientTimeout(total=NETWORK_TIMEOUT_S)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers={"Authorization": f"Bot {token}"}) as response,
        ):
            if response.status == 401:
                return _fail("discord", "Discord rejected DISCORD_TOKEN (401 Unauthorized).",
                             "Reset the token on the Bot page of your application in the "
                             "Discord Developer Portal and set DISCORD_TOKEN to the new one.")
            if response.status != 200:
                return _fail("discord", f"GET /users/@me answered HTTP {response.status}.",
                             "Check DISCORD_API_URL (normally https://discord.com/api/v10) "
                             "and try again later.")
            me = await response.json()
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return _fail("discord", redact(f"cannot reach {settings.discord_api_url}: "
                                       f"{type(exc).__name__}: {exc}"),
                     "Check the network and DISCORD_API_URL (normally "
                     "https://discord.com/api/v10).")
    return Check("discord", "ok", f"logged in as {me.get('username')} (id {me.get('id')})")


# --- running ----------------------------------------------------------------------------


async def run_checks(overrides: dict[str, Any] | None = None) -> list[Check]:
    first, settings = check_settings(overrides or {})
    if settings is None:
        return [first]
    register_settings_secrets(settings)
    checks = [first, await check_seeds(settings), await check_store(settings)]
    checks += await check_slack(settings)
    checks.append(await check_discord(settings))
    if settings.slack_bot_token is None and settings.discord_token is None:
        checks.append(Check("serve", "skip", "no platform token is set: `briefbot ask` works, "
                            "`briefbot serve` needs SLACK_BOT_TOKEN and/or DISCORD_TOKEN"))
    return checks


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        lines.append(f"{check.status:<4}  {check.name:<{width}}  {redact(check.detail)}")
        if check.fix:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    failed = sum(c.status == "FAIL" for c in checks)
    if failed:
        found = "1 problem" if failed == 1 else f"{failed} problems"
        lines.append(f"\n{found} found; fix and run `briefbot doctor` again.")
    else:
        lines.append("\nAll checks passed.")
    return "\n".join(lines)


async def run_doctor(overrides: dict[str, Any] | None = None, out: IO[str] | None = None) -> int:
    """Run every check, print the report; 1 when anything failed."""
    checks = await run_checks(overrides)
    print(render(checks), file=out or sys.stdout, flush=True)
    return 1 if any(c.status == "FAIL" for c in checks) else 0
