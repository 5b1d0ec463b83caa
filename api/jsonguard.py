"""An ASGI middleware that refuses JSON bodies our parser would read too kindly (422).

Python's `json` takes the last of duplicate keys (so a proxy and the API could read two
different requests), recurses on deep nesting, and lets NUL through (which PostgreSQL text
refuses, so a NUL in a name would stop the projections). Malformed JSON and invalid UTF-8 get
a precise problem here too. Runs inside `BodySizeLimit`, so the body is at most 64 KiB.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import PROBLEM_JSON, dumps, keyed_problem
from api.limits import read_body, replaying

MAX_DEPTH = 32
MAX_INT_DIGITS = 40  # Linli's integers fit in 64 bits; Python refuses past 4,300 digits


class BodyRefused(ValueError):
    """A body refused: its slug, and the message key of its detail with the key's parameters."""

    def __init__(self, slug: str, key: str, **params: object) -> None:
        super().__init__(key)
        self.slug, self.key, self.params = slug, key, params


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            raise BodyRefused("validation-error", "json-duplicate-key", name=name[:100])
        seen[name] = value
    return seen


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise BodyRefused("validation-error", "json-int-too-long", max=MAX_INT_DIGITS)
    return int(digits)


def check_json(body: bytes) -> Any:
    """`body` parsed; `BodyRefused` unless it is UTF-8 JSON with unique keys, shallow and
    NUL-free."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyRefused("malformed-json", "json-not-utf8", at=error.start) from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_int)
    except RecursionError:
        raise BodyRefused("validation-error", "json-too-deep", max=MAX_DEPTH) from None
    except json.JSONDecodeError as error:
        raise BodyRefused("malformed-json", "json-malformed", line=error.lineno,
                          column=error.colno) from None
    except BodyRefused:
        raise
    except ValueError as error:  # anything else the parser refuses: never a 500
        raise BodyRefused("validation-error", "json-unreadable") from error
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise BodyRefused("validation-error", "json-nul")
            continue
        children = (list(value.keys()) + list(value.values()) if isinstance(value, dict)
                    else value if isinstance(value, list) else [])
        if children and depth >= MAX_DEPTH:
            raise BodyRefused("validation-error", "json-too-deep", max=MAX_DEPTH)
        stack.extend((child, depth + 1) for child in children)
    return document


class JsonGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        media = headers.get(b"content-type")
        # FastAPI reads a body without a content type as JSON too.
        if (b"json" not in media if media is not None
                else scope["method"] in ("GET", "HEAD", "OPTIONS")):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        if body:
            try:
                check_json(body)
            except BodyRefused as refused:
                await _refuse(send, refused)
                return
        await self.app(scope, replaying(body, receive), send)


async def _refuse(send: Send, refused: BodyRefused) -> None:
    body = dumps(keyed_problem(422, refused.slug, refused.key, refused.params)).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", PROBLEM_JSON.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
