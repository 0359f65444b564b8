"""E-government JSON API (the lead mounts the router)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["egov"])
