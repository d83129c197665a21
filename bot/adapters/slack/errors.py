"""Slack API errors as sentences for users, and which of them retrying cannot fix."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError

PERMANENT_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
INVITE = "Invite briefbot to the channel with `/invite @briefbot`, then try again."
DM_REFUSED = ("briefbot cannot post in a direct message between other people. Subscribe a "
              "channel instead, or run `/brief subscribe` in your DM with briefbot.")
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def error_code(exc: SlackApiError) -> str:
    """Slack's error code from a failed Web API call (`not_in_channel`, `ratelimited`...)."""
    return str(exc.response.get("error", "unknown_error"))


def explain_api_error(code: str) -> str:
    """A Slack API error code as a sentence for the user."""
    if code == "not_in_channel":
        return f"briefbot is not a member of this channel, so it cannot post here. {INVITE}"
    if code == "channel_not_found":
        return f"Slack cannot find this channel for briefbot (private or not joined). {INVITE}"
    if code == "is_archived":
        return "This channel is archived, so briefbot cannot post in it."
    if code == "ratelimited":
        return "Slack is rate-limiting briefbot right now; please try again in a minute."
    return f"Slack refused the post ({code}); please try again later."


