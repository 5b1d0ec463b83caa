"""The reader's language for the current request, from `Accept-Language` (Chinese unless
English is asked for), kept in a context variable that an outermost ASGI layer sets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.messages import ZH, Language, language

_current: ContextVar[Language] = ContextVar("linli_language", default=ZH)


def current() -> Language:
    """The language of the request being answered (`zh` outside one)."""
    return _current.get()


@contextmanager
def using(lang: Language) -> Iterator[None]:
    """Words in `lang` within the block (an answer rendered on another thread)."""
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


class ChosenLanguage:
    """ASGI layer: sets the request's language for everything inside it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asked = next((value for name, value in scope["headers"]
                      if name == b"accept-language"), None)
        token = _current.set(language(asked.decode("latin-1") if asked is not None else None))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
