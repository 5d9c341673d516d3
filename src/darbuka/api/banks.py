"""Admin routes for hash banks under /api/v1/safety: operators manage, moderators read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from darbuka.api.deps import Caller, Svc, dump
from darbuka.api.json import Json as JsonResponse
from darbuka.errors import BadRequest
from darbuka.kinds import MODERATORS, OPERATORS
from darbuka.safety.banks import InvalidHashList
from darbuka.safety.hashformats import (
    ImportProblems,
    dump_csv,
    dump_json,
    parse_bank_file,
    parse_hash,
    parse_signal,
)
from darbuka.safety.roles import check_role
from darbuka.services.auth import Principal

__all__ = ["require_role", "router"]

router = APIRouter(prefix="/api/v1/safety", default_response_class=JsonResponse,
                         tags=["safety"])
Json = dict[str, Any]


def require_role(allowed: frozenset[str]) -> Any:
    """A dependency that lets only callers with one of these roles through (403 otherwise)."""
    async def dependency(caller: Caller) -> Principal:
        check_role(caller.user, allowed)
        return caller

    return Depends(dependency)


Moderator = Annotated[Principal, require_role(MODERATORS)]
Operator = Annotated[Principal, require_role(OPERATORS)]
BankName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                               description="bank name")]
Format = Literal["csv", "json"]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class BankBody(Body):
    source: str | None = Field(None, max_length=256)
    category: str | None = Field(None, max_length=64, examples=["terrorism"])
    entity: str | None = Field(None, max_length=128)
    pdq_threshold: int | None = Field(None, ge=0, le=128)
    quality_floor: int | None = Field(None, ge=0, le=100)
    enabled: bool | None = None
    action: Literal["refuse", "review"] | None = None
    negative: bool | None = None


class BankCreateBody(BankBody):
    name: str = Field(max_length=64, examples=["local-removals"])


class HashKey(Body):
    signal_type: str = Field(max_length=16, examples=["pdq"])
    hash: str = Field(max_length=64)


class RemoveHashesBody(Body):
    hashes: list[HashKey] = Field(min_length=1, max_length=10_000)


@router.get("/banks")
async def list_banks(_who: Moderator, svc: Svc) -> Json:
    """Every bank with its rules and hash counts (moderators and operators)."""
    return {"banks": await svc.banks.all_banks()}


@router.post("/banks", status_code=201)
async def create_bank(body: BankCreateBody, _who: Operator, svc: Svc) -> Json:
    """Create a bank (operators). Defaults: PDQ threshold 31, quality floor 50, enabled,
    action `review`, not negative."""
    values = {k: v for k, v in dump(body).items() if v is not None}
    return await svc.banks.do_create(values)


@router.get("/banks/{bank}")
async def get_bank(bank: BankName, _who: Moderator, svc: Svc) -> Json:
    """One bank with its rules and hash counts."""
    return await svc.banks.get(bank)


@router.patch("/banks/{bank}")
async def update_bank(bank: BankName, body: BankBody, _who: Operator, svc: Svc) -> Json:
    """Change a bank's rules (operators); takes effect in the matcher at once."""
    values = {k: v for k, v in dump(body).items() if v is not None}
    return await svc.banks.do_update(bank, values)


@router.delete("/banks/{bank}", status_code=204)
async def delete_bank(bank: BankName, _who: Operator, svc: Svc) -> Response:
    """Delete a bank and its hashes (operators). Recorded matches stay."""
    await svc.banks.do_delete(bank)
    return Response(status_code=204)


@router.post("/banks/{bank}/import")
async def import_bank(bank: BankName, request: Request, _who: Operator, svc: Svc,
                      format: Format | None = None) -> Json:
    """Import a hash list sent as the raw body, CSV or JSON (see docs/banks.md); the format
    is guessed when not given. The whole file is validated first: one bad row refuses it
    with 422 `invalid_hash_list` and a line-numbered `problems` list."""
    data = await request.body()
    try:
        parsed = parse_bank_file(data, format)
    except UnicodeDecodeError:
        raise BadRequest("the file must be UTF-8 text", code="invalid_hash_list") from None
    except ImportProblems as problems:
        raise InvalidHashList(problems) from None
    return await svc.banks.do_import(bank, parsed)


@router.get("/banks/{bank}/export")
async def export_bank(bank: BankName, _who: Moderator, svc: Svc,
                      format: Format = "csv") -> Response:
    """The bank's active hashes as CSV (`signal_type,hash,<labels…>`) or JSON."""
    meta, rows = await svc.banks.export(bank)
    headers = {"content-disposition": f'attachment; filename="{bank}.{format}"'}
    if format == "json":
        return Response(dump_json(meta, rows), media_type="application/json", headers=headers)
    return Response(dump_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/banks/{bank}/scans")
async def list_scans(bank: BankName, _who: Moderator, svc: Svc,
                     limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Json:
    """The bank's latest scans of stored media against the hashes it gained, newest first,
    with their progress (`scanned` of `total` stored PDQ hashes, `matched` media acted on)."""
    return {"scans": await svc.scans.scans(bank, limit)}


@router.post("/banks/{bank}/remove-hashes")
async def remove_hashes(bank: BankName, body: RemoveHashesBody, _who: Operator,
                        svc: Svc) -> Json:
    """Take hashes out of a bank (say, a false positive); no longer matched from now on."""
    keys = []
    for number, item in enumerate(body.hashes, 1):
        try:
            signal = parse_signal(item.signal_type)
            keys.append((signal, parse_hash(signal, item.hash)))
        except ValueError as exc:
            raise BadRequest(f"hashes[{number}]: {exc}", code="invalid_hash") from None
    return {"removed": await svc.banks.do_remove_hashes(bank, keys)}


@router.get("/matches")
async def list_matches(_who: Moderator, svc: Svc,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Json:
    """The latest matches of uploads against banks, newest first."""
    return {"matches": await svc.banks.recent_matches(limit)}
