"""What request bodies share. Strict types: "5" is not a number. Unknown fields are ignored.
Each body lives beside the routes that take it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AvatarBody", "Body", "Id", "Millis"]

# Ids are positive 64-bit integers (what every database here stores).
Id = Annotated[int, Field(gt=0, lt=2**63)]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


# Times are milliseconds since the epoch, like everywhere in the API.
Millis = int


class AvatarBody(Body):
    media_id: str = Field(min_length=1, max_length=32)
