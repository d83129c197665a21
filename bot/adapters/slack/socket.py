"""Socket Mode: slack_sdk's aiohttp client and slack-bolt's handler, made to give up.

The client makes one bounded connection attempt at a time (the adapter retries with
backoff) and turns an app-level token Slack refuses into a SettingsError naming
SLACK_APP_TOKEN, also on a later reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.settings import REFUSED_APP_TOKEN, refused_app_token
from bot.settings import SettingsError

# Socket Mode start-up: one bounded attempt at a time; retries back off up to RETRY_MAX_S.
CONNECT_TIMEOUT_S = 30.0
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0


def reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"apps.connections.open: {exc.response.get('error', 'unknown_error')}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SocketClient(SocketModeClient):
    """slack_sdk's aiohttp Socket Mode client, changed in two ways.

    - connect() makes one attempt and raises on failure. The original retries forever
      (every few seconds, a traceback each time, reusing a websocket URL that failed), so
      start-up could neither give up nor tell an outage from a refused token. The adapter
      retries at start; once connected, the client's own monitor reconnects as before.
    - A refused app token (REFUSED_APP_TOKEN) raises SettingsError and calls `on_refused`,
      also when it happens on a reconnect, so `serve` stops with one line.
    """

    def __init__(self, *args: Any, on_refused: Callable[[SettingsError], None],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_refused = on_refused

    async def issue_new_wss_url(self) -> str:
        try:
            response = await self.web_client.apps_connections_open(app_token=self.app_token)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            if code in REFUSED_APP_TOKEN:
                error = refused_app_token(code)
                self._on_refused(error)
                raise error from None
            raise
        return str(response["url"])

    async def connect(self) -> None:  # the base class's loop body, once
        if self.closed:
            return
        self.auto_reconnect_enabled = False
        try:
            if self.current_session is not None:
                with contextlib.suppress(Exception):
                    await self.current_session.close()
            if self.aiohttp_client_session.closed:
                self.aiohttp_client_session = aiohttp.ClientSession()
            if self.wss_uri is None:
                self.wss_uri = await self.issue_new_wss_url()
            try:
                self.current_session = await self.aiohttp_client_session.ws_connect(
                    self.wss_uri, autoping=False, heartbeat=self.ping_interval,
                    proxy=self.proxy,
                    ssl=self.web_client.ssl if self.web_client.ssl is not None else True)
            except BaseException:
                self.wss_uri = None  # the next attempt asks Slack for a fresh URL
                raise
        finally:
            # also after a failure, so the session monitor keeps trying to reconnect
            self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        self.stale = False
        self.logger.info(f"A new session ({await self.session_id()}) has been established")
        await self.current_session.ping(f"sdk-ping-pong:{time.time()}".encode())
        if self.current_session_monitor is not None:
            self.current_session_monitor.cancel()
        self.current_session_monitor = asyncio.ensure_future(self.monitor_current_session())
        if self.message_receiver is not None:
            self.message_receiver.cancel()
        self.message_receiver = asyncio.ensure_future(self.receive_messages())


class SocketHandler(AsyncSocketModeHandler):
    """slack-bolt's handler over SocketClient."""

    def __init__(self, app: AsyncApp, app_token: str, web_client: AsyncWebClient, *,
                 on_refused: Callable[[SettingsError], None]) -> None:
        self.app = app
        self.app_token = app_token
        self.client = SocketClient(app_token=app_token, logger=app.logger,
                                        web_client=web_client, on_refused=on_refused)
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]


