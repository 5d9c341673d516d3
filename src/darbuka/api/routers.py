"""Every router of the HTTP API and the pages, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

from darbuka.api import (
    alerts,
    auth,
    banks,
    chat_admins,
    chats,
    exports,
    health,
    media,
    messages,
    moderation,
    orders,
    people,
    preferences,
    public,
    public_page,
    push,
    reports,
    scheduled,
    search,
    sync,
    transparency,
    uploads,
)

__all__ = ["ROUTERS"]

# The hottest first: a request is matched against the routes in this order (a send or a long
# poll used to be tried against every chat and profile route before its own).
ROUTERS: tuple[APIRouter, ...] = (
    messages.router, sync.router, health.router, auth.router, people.router, chats.router,
    chat_admins.router, preferences.router, public.router, scheduled.router, media.router,
    uploads.router, reports.router, moderation.router, orders.router, alerts.router,
    push.router, search.router, transparency.router, banks.router, transparency.page_router,
    exports.router, public_page.router)
