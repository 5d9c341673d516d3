"""Your own data to take with you (GDPR Art. 20): ask for an export, see when it is ready,
download the zip."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import StreamingResponse

from darbuka.api.deps import Caller, Svc
from darbuka.api.json import Json as JsonResponse
from darbuka.services.exports import export_view

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", default_response_class=JsonResponse)
Json = dict[str, Any]
ExportId = Annotated[int, Path(gt=0, lt=2**63, description="export id")]


@router.post("/me/exports", status_code=202, tags=["profile"])
async def request_export(caller: Caller, svc: Svc) -> Json:
    """Ask for a zip of your data: profile, chats, the messages and files you sent, with a
    small offline viewer (`index.html`). It is made in the background (`state`: pending,
    then ready or failed); 409 `export_running` while one is being made."""
    return await svc.exports.do_request(caller.user_id)


@router.get("/me/exports", tags=["profile"])
async def list_exports(caller: Caller, svc: Svc) -> Json:
    """Your last exports, newest first, each with its `download` path once ready."""
    return {"exports": await svc.exports.list_for(caller.user_id)}


@router.get("/me/exports/{export_id}", tags=["profile"])
async def get_export(export_id: ExportId, caller: Caller, svc: Svc) -> Json:
    """One of your exports; 404 `export_not_found` for anyone else's."""
    return export_view(await svc.exports.get(caller.user_id, export_id))


@router.get("/me/exports/{export_id}/download", tags=["profile"], response_class=Response)
async def download_export(export_id: ExportId, caller: Caller, svc: Svc) -> Response:
    """The zip of a ready export (409 `export_not_ready` before); yours only."""
    chunks, size = await svc.exports.open_download(caller.user_id, export_id)
    return StreamingResponse(chunks, media_type="application/zip", headers={
        "Content-Length": str(size), "Cache-Control": "private, no-store",
        "Content-Disposition": f'attachment; filename="darbuka-data-{export_id}.zip"'})
