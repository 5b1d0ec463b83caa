"""The problem+json answers every `/v1` call may give, documented once for the OpenAPI."""

from __future__ import annotations

from typing import Any

from api.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "https://linli.example/problems/<slug>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}

_WHY = {
    400: "A header is missing or wrong (e.g. `idempotency-key-required`)",
    401: "No token, or an unknown or revoked one (`unauthorized`)",
    403: "The token's role or scope does not allow this (`forbidden`)",
    404: "Not found, or outside the token's scope",
    409: "The request conflicts with the books (`insufficient-balance`, …)",
    413: "The body is over 64 KiB (`payload-too-large`)",
    422: "The request is not valid (`validation-error`, …)",
    429: "Too many requests, or too many failed tokens (`rate-limited`); see Retry-After",
    503: "The database is unavailable (`unavailable`)",
}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": why, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
    for status, why in _WHY.items()
}
