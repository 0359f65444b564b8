"""Urban-management JSON API (routes come in a later slice; the lead mounts the router)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["urban"])
