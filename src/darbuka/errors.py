"""Errors that reach clients as `{"error": {"code", "message"}}` with an HTTP status."""

from __future__ import annotations

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "MediaRefused",
    "NotFound",
    "RateLimited",
    "StorageUnavailable",
    "Unauthorized",
]


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MediaRefused(Forbidden):
    """What the sender sees when an upload matches a `refuse` bank. It names no bank and no
    hash: that would help someone tune an image until it slips through."""

    code = "media_refused"

    def __init__(self) -> None:
        super().__init__("this file cannot be shared here: it matches media that was removed "
                         "for breaking the law or the terms of service")


class StorageUnavailable(ApiError):
    """The blob store (S3) does not answer. Nothing was half-stored: the client may retry."""

    status = 503
    code = "storage_unavailable"

    def __init__(self, message: str = "file storage is unavailable; try again shortly") -> None:
        super().__init__(message)
