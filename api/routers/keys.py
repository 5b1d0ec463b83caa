"""API keys: issue (token shown once) and revoke."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.deps import LinliDep, PageCursor, PageLimit, StaffActor, StaffOrAuditor, caught_up
from api.errors import ApiProblem
from api.idempotency import WriteDep, nothing
from api.schemas import ApiKeyIn, ApiKeyOut, ApiKeyRow, ApiKeysOut
from ledger.actor import Role
from ledger.commands import access
from ledger.limits import PAGE_DEFAULT
from projections import api_keys

router = APIRouter(prefix="/v1/api-keys", tags=["access"])


@router.post("", status_code=201, response_model=ApiKeyOut)
def issue_key(body: ApiKeyIn, actor: StaffActor, linli: LinliDep, write: WriteDep
              ) -> Response:
    """A new key; its token is in this answer only (a retry under the same Idempotency-Key
    issues nothing and answers without the token)."""
    role = Role(body.role)
    if actor.role is Role.STAFF and role not in (Role.MEMBER, Role.MERCHANT):
        raise ApiProblem(403, "forbidden", "staff-issue-keys")
    return write.execute(access.issue_api_key(
        role, community_id=body.community_id, merchant_id=body.merchant_id,
        member_id=body.member_id, label=body.label, by=actor, expires_at=body.expires_at,
        now=linli.clock(), district_id=body.district_id,
    ), _key_out, body, shown_once=lambda issued: _key_out(issued, token=""))


def _key_out(issued: access.IssuedKey, token: str | None = None) -> ApiKeyOut:
    return ApiKeyOut(id=issued.id, token=issued.token if token is None else token,
                     role=issued.role, community_id=issued.community_id,
                     merchant_id=issued.merchant_id, member_id=issued.member_id,
                     label=issued.label, expires_at=issued.expires_at,
                     district_id=issued.district_id)


@router.get("", response_model=ApiKeysOut)
def list_keys(actor: StaffOrAuditor, linli: LinliDep, community_id: UUID | None = None,
              limit: PageLimit = PAGE_DEFAULT, cursor: PageCursor = None) -> ApiKeysOut:
    """The keys in the caller's scope, newest first: an admin's (or a whole-ledger auditor's)
    every key, or those of one community; staff and community auditors their community's.
    Never a token or its hash. A district's staff and auditors name one of its communities."""
    if actor.communities is not None:
        if community_id is None:
            raise ApiProblem(422, "community-required", "community-required")
        actor.check_community(community_id, "community", community_id)
    elif actor.community_id is not None:
        actor.check_community(community_id or actor.community_id, "community", community_id)
        community_id = actor.community_id
    caught_up(linli)
    rows, next_before = api_keys.list_keys(
        linli.engine, str(community_id) if community_id else None, limit=limit, before=cursor)
    return ApiKeysOut(items=[ApiKeyRow(id=r["key_id"], **{
        k: v for k, v in r.items() if k in ApiKeyRow.model_fields}) for r in rows],
        next_cursor=str(next_before) if next_before is not None else None)


@router.delete("/{key_id}", status_code=204)
def revoke_key(key_id: UUID, request: Request, actor: StaffActor, linli: LinliDep,
               write: WriteDep) -> Response:
    """Revoke a key: staff only member and merchant keys of its community (others 403)."""
    answer = write.execute(access.revoke_api_key(key_id, actor), nothing)
    request.app.state.key_cache.clear()
    return answer
