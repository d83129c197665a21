"""Slack settings: the adapter's arguments from the environment, checked before anything
starts, and the sentences for an app-level token Slack refuses."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings, SettingsError

REFUSED_APP_TOKEN = {
    "invalid_auth": "generate a new app-level token (Basic Information → App-Level Tokens, "
                    "scope connections:write) and set it",
    "not_authed": "set the app-level token (xapp-…) from Basic Information → App-Level Tokens",
    "token_revoked": "the token was revoked: generate a new app-level token and set it",
    "token_expired": "the token expired: generate a new app-level token and set it",
    "account_inactive": "the app or its workspace is no longer active: reinstall the app",
    "not_allowed_token_type": "apps.connections.open needs the app-level token (xapp-…, scope "
                              "connections:write), not a bot or user token",
    "missing_scope": "the app-level token lacks the connections:write scope: generate one "
                     "with it",
}
"""apps.connections.open errors that retrying cannot fix: start-up stops, naming the variable."""



def refused_app_token(code: str) -> SettingsError:
    return SettingsError(f"SLACK_APP_TOKEN: Slack refused it ({code}); "
                         f"{REFUSED_APP_TOKEN.get(code, 'check the app-level token')}")



def _secret(value: Any) -> str | None:
    return value.get_secret_value().strip() or None if value is not None else None


def slack_settings(settings: Settings) -> dict[str, Any]:
    """The adapter's arguments from the settings, or SettingsError naming the variable.

    Called by `serve` before the index loads too, so a typo stops start-up at once.
    """
    bot_token, secret = _secret(settings.slack_bot_token), _secret(settings.slack_signing_secret)
    app_token = _secret(settings.slack_app_token)
    if not bot_token:
        raise SettingsError("SLACK_BOT_TOKEN: required for serve --slack; the Bot User "
                            "OAuth Token from your app's OAuth & Permissions page (xoxb-…)")
    if not bot_token.startswith("xoxb-"):
        raise SettingsError("SLACK_BOT_TOKEN: must be a bot token starting with xoxb-")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN: must be an app-level token starting with "
                            "xapp- (Basic Information → App-Level Tokens, connections:write)")
    if app_token is None and not secret:
        raise SettingsError("SLACK_SIGNING_SECRET: required in HTTP mode (no SLACK_APP_TOKEN)"
                            "; copy it from your app's Basic Information page")
    return {"bot_token": bot_token, "signing_secret": secret, "app_token": app_token,
            "api_url": settings.slack_api_url}


