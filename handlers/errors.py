"""The one error path: user-facing errors carry their sentence; anything else gets APOLOGY."""

from __future__ import annotations

from bot.errors import NotAllowedError, SeedError, UserFacingError

APOLOGY = (
    "Sorry, something went wrong on our side while answering. "
    "It has been logged; please try again in a moment."
)

__all__ = ["APOLOGY", "NotAllowedError", "SeedError", "UserFacingError"]
