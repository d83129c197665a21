"""The typed request every handler takes, whichever platform it came from."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from bot.ids import new_id

Platform = Annotated[str, Field(min_length=1, max_length=32)]
"""A platform's registry name (`slack`, `discord`, a plug-in's), or `cli`."""


class CommandRequest(BaseModel):
    """Who asked, where, and what. Adapters build it from a platform payload."""

    command: str = Field(
        description="Handler name: ask, who, brief, reload, gaps, help, share, vote."
    )
    text: str = Field(default="", description="Everything the user typed after the command.")
    platform: Platform = "cli"
    user_id: str = "local"
    user_name: str | None = None
    channel_id: str | None = None
    workspace_id: str | None = Field(default=None, description="Slack team id or Discord guild id.")
    platform_admin: bool = Field(
        default=False,
        description="The platform says the user administers the workspace "
        "(Slack admin/owner, Discord Manage Server).",
    )
    can_manage_channel: bool = Field(
        default=False, description="The platform says the user may manage this channel."
    )
    options: dict[str, str] = Field(default_factory=dict, description="Extra structured arguments.")
    request_id: str = Field(default_factory=lambda: new_id(12))
