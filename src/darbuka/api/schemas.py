"""What request bodies share. Strict types: "5" is not a number. Unknown fields are ignored.
Each body lives beside the routes that take it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from darbuka.services.text import has_nul

__all__ = ["AvatarBody", "Body", "Id", "Millis"]

# Ids are positive 64-bit integers (what every database here stores).
Id = Annotated[int, Field(gt=0, lt=2**63)]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    @model_validator(mode="after")
    def _no_nul(self) -> Body:
        # No stored text may hold NUL (PostgreSQL cannot store it): refused at the door,
        # for every body, as a 422 like any other malformed field.
        for name, value in self:
            if has_nul(value):
                raise ValueError(f"{name} may not contain NUL characters")
        return self


# Times are milliseconds since the epoch, like everywhere in the API.
Millis = int


class AvatarBody(Body):
    media_id: str = Field(min_length=1, max_length=32)
