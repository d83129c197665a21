"""`seeds/curation.yaml`: an admin's corrections, validated before anything changes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import SeedError

CURATION_FILE = "curation.yaml"


class EntityFix(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=120)
    kind: Literal["person", "org", "place"] = "person"
    role: str | None = Field(default=None, max_length=300)
    aliases: list[str] = Field(default_factory=list)
    description: str | None = Field(default=None, max_length=500)


class Curation(BaseModel):
    """What an admin may add or correct. Unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid")

    entities: list[EntityFix] = Field(default_factory=list)
    hide: list[str] = Field(
        default_factory=list,
        description="Sentence ids (doc#p3.s1) or exact sentences never to show.",
    )
    synonyms: dict[str, list[str]] = Field(default_factory=dict)


def load_curation(seeds_dir: Path) -> Curation:
    path = seeds_dir / CURATION_FILE
    if not path.exists():
        return Curation()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path.name} is not valid YAML: {exc}".splitlines()[0],
                        hint="Fix the file; the current index keeps serving.") from None
    if not isinstance(data, dict):
        raise SeedError(f"{path.name} must be a mapping with entities, hide and synonyms.")
    try:
        return Curation.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SeedError(f"{path.name}: field `{where}`: {err['msg']}.",
                        hint="Fix the file; the current index keeps serving.") from None
