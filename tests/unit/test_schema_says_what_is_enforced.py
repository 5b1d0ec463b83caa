"""The OpenAPI document says what the API's validation enforces: a body the published JSON
Schema of a request accepts, the API accepts too, and one it refuses, the API refuses (a client
generated from the document needs no prose)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel, ValidationError

from api.schemas import AdjustmentIn, AwardIn, GridPatch, MemberPatch, RedemptionIn
from api.schemas_activities import AttendanceIn, AwardBatchIn
from api.schemas_timebank import DispatchIn

MEMBER = "01a24aa0-62cb-787d-a771-ff9c1d611fe9"
OTHER = "01a24aa0-73ca-77b8-83ee-965a34de5c47"
CODE = "123456789012345678"

CASES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    # a till names the member exactly one way
    (RedemptionIn, {"member_id": MEMBER, "points": 1}),
    (RedemptionIn, {"payment_code": CODE, "points": 1}),
    (RedemptionIn, {"passbook_no": "A-1", "pin": "123456", "points": 1}),
    (RedemptionIn, {"member_id": None, "payment_code": CODE, "points": 1}),
    (RedemptionIn, {"points": 1}),
    (RedemptionIn, {"member_id": MEMBER, "payment_code": CODE, "points": 1}),
    (RedemptionIn, {"payment_code": CODE, "passbook_no": "A-1", "pin": "123456", "points": 1}),
    (RedemptionIn, {"member_id": None, "points": 1}),
    # an adjustment is of a member or of a merchant
    (AdjustmentIn, {"member_id": MEMBER, "asset": "points", "amount": 5, "reason": "错账"}),
    (AdjustmentIn, {"merchant_id": MEMBER, "asset": "points", "amount": 5, "reason": "错账"}),
    (AdjustmentIn, {"member_id": MEMBER, "merchant_id": OTHER, "asset": "points", "amount": 5,
                    "reason": "错账"}),
    (AdjustmentIn, {"asset": "points", "amount": 5, "reason": "错账"}),
    # a check-in by the member's code or by staff naming the member
    (AttendanceIn, {"code": "abc"}),
    (AttendanceIn, {"member_id": MEMBER}),
    (AttendanceIn, {"code": "abc", "member_id": MEMBER}),
    (AttendanceIn, {}),
    # a dispatch to a volunteer or to a team
    (DispatchIn, {"volunteer_id": MEMBER}),
    (DispatchIn, {"team_id": MEMBER}),
    (DispatchIn, {"volunteer_id": MEMBER, "team_id": OTHER}),
    (DispatchIn, {"volunteer_id": None, "team_id": None}),
    # an amount is a number or left out, never null
    (AwardIn, {"member_id": MEMBER, "rule_code": "HELP", "quantity": 2}),
    (AwardIn, {"member_id": MEMBER, "rule_code": "HELP"}),
    (AwardIn, {"member_id": MEMBER, "rule_code": "HELP", "quantity": None}),
    (AwardIn, {"member_id": MEMBER, "rule_code": "HELP", "minutes": None}),
    (AwardBatchIn, {"member_ids": [MEMBER], "rule_code": "HELP", "minutes": None}),
    (AwardBatchIn, {"member_ids": [MEMBER], "rule_code": "HELP", "minutes": 30}),
    # a change names what changes; what cannot be emptied is never null
    (MemberPatch, {"status": "moved_out"}),
    (MemberPatch, {"status": None}),
    (MemberPatch, {"name": None}),
    (MemberPatch, {"household_id": None}),
    (GridPatch, {"sort_order": 3}),
    (GridPatch, {"sort_order": None}),
]


def _accepted_by_api(model: type[BaseModel], body: dict[str, Any]) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("model", "body"), CASES,
                         ids=[f"{m.__name__}-{i}" for i, (m, _) in enumerate(CASES)])
def test_the_published_schema_and_the_validation_agree(
        model: type[BaseModel], body: dict[str, Any]) -> None:
    schema = model.model_json_schema(mode="validation")
    by_schema = jsonschema_rs.validator_for(schema).is_valid(body)
    assert by_schema == _accepted_by_api(model, body), (model.__name__, body, schema)
