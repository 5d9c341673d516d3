"""Every router of the HTTP API and the pages, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

from darbuka.api.media import media_router
from darbuka.api.public_page import page_router
from darbuka.api.routes import api_router
from darbuka.api.safety_banks import banks_router
from darbuka.api.safety_routes import safety_router, transparency_page_router
from darbuka.api.social import social_router
from darbuka.api.uploads import uploads_router

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (api_router, safety_router, transparency_page_router,
                                  social_router, page_router, banks_router, uploads_router,
                                  media_router)
