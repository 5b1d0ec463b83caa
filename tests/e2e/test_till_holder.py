"""Who is paying, before the till charges (`POST /v1/till/holder`): the resident's masked name
and available points by payment code, by passbook number and PIN, or by member id where the
community allows it; the code stays usable and nothing is written."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.scenario import Town, key, ok, problem_type


def test_a_payment_code_names_the_resident_masked_and_stays_usable(client: TestClient) -> None:
    town = Town.found(client, consent="payment_code").cast("王秀英")
    town.award(12)
    code = town.payment_code()
    found = ok(client.post("/v1/till/holder", headers=town.merchant,
                           json={"payment_code": code}))
    assert found == {"name": "王*英", "passbook_no": town.passbook_no, "points_available": 12}
    assert town.redeem(5, payment_code=code).status_code == 201  # the code was not used up
    used = client.post("/v1/till/holder", headers=town.merchant, json={"payment_code": "1" * 18})
    assert (used.status_code, problem_type(used)) == (409, "payment-code-invalid")


def test_a_passbook_number_needs_the_pin_where_consent_is_asked(client: TestClient) -> None:
    town = Town.found(client, consent="payment_code").cast("王秀英")
    assert client.put(f"/v1/members/{town.member_id}/pin", headers=town.staff,
                      json={"pin": "246810"}).status_code == 204
    wrong = client.post("/v1/till/holder", headers=town.merchant,
                        json={"passbook_no": town.passbook_no, "pin": "000000"})
    assert (wrong.status_code, problem_type(wrong)) == (409, "pin-invalid")
    right = ok(client.post("/v1/till/holder", headers=town.merchant,
                           json={"passbook_no": town.passbook_no, "pin": "246810"}))
    assert right["name"] == "王*英" and right["points_available"] == 0
    by_id = client.post("/v1/till/holder", headers=town.merchant,
                        json={"member_id": town.member_id})
    assert (by_id.status_code, problem_type(by_id)) == (403, "payment-code-required")


def test_by_member_id_where_allowed_and_only_for_a_merchant(client: TestClient) -> None:
    town = Town.found(client).cast("王秀英")
    town.award(7)
    town.redeem(2)
    found = ok(client.post("/v1/till/holder", headers={**town.merchant, **key()},
                           json={"member_id": town.member_id}))
    assert found["points_available"] == 5
    staff = client.post("/v1/till/holder", headers=town.staff, json={"member_id": town.member_id})
    assert staff.status_code == 403


def test_a_volunteers_tasks_say_who_asked_and_where(client: TestClient) -> None:
    town = Town.found(client).cast("王秀英", household_id=None)
    household = town.add_household("幸福里3栋2单元101")
    elder = town.add_member("李奶奶", household)
    order = ok(client.post("/v1/service-requests", headers=town.staff, json={
        "requester_id": elder, "service_type": "聊天陪伴", "description": "下午陪我聊天"}), 201)
    ok(client.post(f"/v1/service-requests/{order['id']}/dispatch", headers=town.staff,
                   json={"volunteer_id": town.member_id}))
    rows = ok(client.get(f"/v1/service-requests?volunteer_id={town.member_id}",
                         headers=town.member))["items"]
    assert [(r["requester_name"], r["requester_address"], r["description"]) for r in rows] == [
        ("李奶奶", "幸福里3栋2单元101", "下午陪我聊天")]
