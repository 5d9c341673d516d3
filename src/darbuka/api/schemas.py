"""Request bodies. Strict types: "5" is not a number. Unknown fields are ignored."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AddMembersBody", "AvatarBody", "CallbackBody", "ChatCreateBody", "ChatUpdateBody",
    "DeliveredBody", "EditBody", "PackCreateBody", "PinBody", "ProfileBody", "ReadBody",
    "RequestCodeBody", "RoleBody", "SendBody", "SignInBody", "StickerAddBody",
]



# Ids are positive 64-bit integers (what every database here stores).
Id = Annotated[int, Field(gt=0, lt=2**63)]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class RequestCodeBody(Body):
    phone: str = Field(max_length=32, examples=["+441632960961"])


class SignInBody(Body):
    phone: str = Field(max_length=32)
    code: str = Field(max_length=6, examples=["123456"])
    device_name: str = Field("device", max_length=64)


class ProfileBody(Body):
    display_name: str | None = Field(None, max_length=64)
    username: str | None = Field(None, max_length=33)
    about: str | None = Field(None, max_length=512)
    kind: Literal["person", "blogger", "brand"] | None = None


class ChatCreateBody(Body):
    kind: Literal["direct", "group", "channel"]
    user_id: Id | None = None
    title: str | None = Field(None, max_length=128)
    description: str | None = Field(None, max_length=1024)
    member_ids: list[Id] = Field(default_factory=list, max_length=20_000)
    public: bool = False


class ChatUpdateBody(Body):
    title: str | None = Field(None, max_length=128)
    description: str | None = Field(None, max_length=1024)
    # Makes a group or channel public under @handle; null makes it private again.
    handle: str | None = Field(None, max_length=64)
    # Channels: sign posts with the admin's name (else posts are the channel's).
    sign_posts: bool | None = None


class AddMembersBody(Body):
    user_ids: list[Id] = Field(min_length=1, max_length=1000)


class RoleBody(Body):
    role: Literal["admin", "member", "subscriber"]


class SendBody(Body):
    client_id: str = Field(min_length=1, max_length=64)
    text: str = Field("", max_length=4096)
    reply_to: Id | None = None
    forward_of: Id | None = None
    # A finished upload (see Media); `text` is then its caption (at most 1,024 characters).
    media_id: str | None = Field(None, min_length=1, max_length=32)
    kind: Literal["text", "photo", "voice", "video", "sticker", "file"] | None = None


class PackCreateBody(Body):
    title: str = Field(min_length=1, max_length=64)


class StickerAddBody(Body):
    media_id: str = Field(min_length=1, max_length=32)
    emoji: str = Field("", max_length=16)


class AvatarBody(Body):
    media_id: str = Field(min_length=1, max_length=32)


class EditBody(Body):
    text: str = Field(min_length=1, max_length=4096)


class PinBody(Body):
    message_id: Id


class CallbackBody(Body):
    payload: str = Field(max_length=1024)


class ReadBody(Body):
    seq: int = Field(ge=0, lt=2**63)


class DeliveredBody(Body):
    # Checked by the service, as the socket frame's is: any bad seq (missing, a string, a
    # float, negative) is 400 invalid_seq. The schema says what a client should send.
    model_config = ConfigDict(strict=True, extra="ignore",
                              json_schema_extra={"required": ["seq"]})

    seq: Any = Field(None, description="the highest `seq` of the chat this device received",
                     examples=[42], json_schema_extra={"type": "integer", "minimum": 0})
