"""Exceptions that carry a sentence for the user (the one error path's first half)."""

from __future__ import annotations

from bot.models import UserError


class UserFacingError(Exception):
    """Raise anywhere to stop and tell the user `message` (and what to do, `hint`)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_model(self) -> UserError:
        return UserError(message=self.message, hint=self.hint)


class NotAllowedError(UserFacingError):
    """The caller lacks the rights the command needs."""


class SeedError(UserFacingError):
    """A seed or curation file cannot be used; the message names the file and why."""
