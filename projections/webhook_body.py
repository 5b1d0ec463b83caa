"""What a webhook delivery sends: one event as JSON, the same bytes for every subscription."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def body_of(kind: str, position: int, at: datetime, community_id: str,
            merchant_id: str | None, data: dict[str, Any], event_id: str | None = None) -> str:
    """What a delivery sends: the event as JSON (the same bytes for every subscription)."""
    return json.dumps({"id": event_id or f"evt_{position}", "type": kind,
                       "created_at": at.isoformat(), "position": position,
                       "community_id": community_id, "merchant_id": merchant_id, "data": data},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
