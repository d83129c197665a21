"""Platform-neutral commands. Nothing here imports slack or discord."""

from bot.context import AppContext
from handlers.registry import HANDLERS, dispatch
from handlers.requests import CommandRequest

__all__ = ["HANDLERS", "AppContext", "CommandRequest", "dispatch"]
