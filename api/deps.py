"""Dependencies for routes, as `Annotated` types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import actor_for_token
from api.bootstrap import Linli
from ledger.actor import Actor


def get_linli(request: Request) -> Linli:
    linli: Linli = request.app.state.linli
    return linli


LinliDep = Annotated[Linli, Depends(get_linli)]

_bearer = HTTPBearer(auto_error=False, description="An API key, or LINLI_ADMIN_TOKEN")


def get_actor(
    linli: LinliDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    token = credentials.credentials if credentials else None
    return actor_for_token(linli.app, token, linli.settings.admin_token)


ActorDep = Annotated[Actor, Depends(get_actor)]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Required: a retry with the same key and body "
           "returns the first response and changes nothing."),
]
