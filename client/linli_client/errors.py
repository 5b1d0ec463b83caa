"""The error a call raises: the server's problem+json, kept whole."""

from __future__ import annotations

from typing import Any


class LinliError(Exception):
    """A refusal (4xx) or a failure that outlived the retries; `slug` is the last segment of
    the problem's `type` (e.g. `insufficient-balance`), `None` when no answer came."""

    def __init__(self, status: int | None, problem: dict[str, Any] | None = None,
                 message: str = "") -> None:
        self.status = status
        self.problem = problem or {}
        type_ = str(self.problem.get("type", ""))
        self.slug: str | None = type_.rsplit("/", 1)[-1] if type_ else None
        self.title: str = str(self.problem.get("title", ""))
        self.detail: str = str(self.problem.get("detail", message))
        super().__init__(f"{status} {self.slug or ''}: {self.detail or message}".strip())
