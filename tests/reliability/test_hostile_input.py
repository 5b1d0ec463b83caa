"""Hostile bodies beyond tests/e2e/test_bad_input.py: duplicate keys, deep nesting, invalid
UTF-8 inside a string, NUL and lone surrogates in text, over-long text, the wrong content
type. Each is refused 4xx as problem+json and nothing is stored."""

from __future__ import annotations

import json

import pytest

from tests.hostile import (
    REDEMPTION,
    STARTING_POINTS,
    assert_problem,
    good_body,
    post_raw,
    with_raw_amount,
)
from tests.scenario import ok


def redemption_text(world, points_json, description_json='"大米"'):
    return (f'{{"member_id": "{world.member_id}", "points": {points_json}, '
            f'"description": {description_json}}}').encode()


class TestHostileBodies:
    def test_duplicate_keys_are_refused_not_read_last_wins(self, world, books):
        text = redemption_text(world, '1, "points": 90')

        response = post_raw(world, REDEMPTION, text)

        assert_problem(response, 422, "validation-error")
        assert "points" in response.json()["detail"]
        books.assert_unchanged()

    @pytest.mark.parametrize("depth", [40, 5_000])
    def test_deep_nesting_is_refused(self, world, books, depth):
        text = redemption_text(world, "1", "[" * depth + "]" * depth)

        assert_problem(post_raw(world, REDEMPTION, text), 422, "validation-error")
        books.assert_unchanged()

    def test_invalid_utf8_inside_a_string_is_refused(self, world, books):
        text = redemption_text(world, "1", '"XX"').replace(b"XX", b"\xff\xfe")

        assert_problem(post_raw(world, REDEMPTION, text), 422, "malformed-json")
        books.assert_unchanged()

    @pytest.mark.parametrize("escaped", ['"a\\u0000b"', '"\\ud800"'], ids=["nul", "surrogate"])
    def test_nul_and_lone_surrogates_in_text_are_refused(self, world, books, escaped):
        response = post_raw(world, REDEMPTION, redemption_text(world, "1", escaped))

        assert_problem(response, 422, "validation-error")
        books.assert_unchanged()

    def test_a_nul_in_a_name_is_refused_and_the_views_keep_up(self, world, books):
        # A NUL reaching PostgreSQL text would stop the projections for every later event.
        response = world.client.post("/v1/members", headers={**world.staff,
                                     "Content-Type": "application/json"},
                                     content=json.dumps({"community_id": world.community_id,
                                                         "name": "张\u0000三"}).encode())

        assert_problem(response, 422, "validation-error")
        books.assert_unchanged()
        world.award(1)
        assert world.balance()["points"] == STARTING_POINTS + 1

    def test_text_over_500_characters_is_refused(self, world, books):
        body = {**good_body(world, REDEMPTION), "description": "米" * 501}

        assert_problem(post_raw(world, REDEMPTION, json.dumps(body)), 422, "validation-error")
        books.assert_unchanged()

    def test_a_body_that_is_not_declared_json_is_refused(self, world, books):
        response = world.client.post(
            "/v1/awards", content=json.dumps(good_body(world, "award")).encode(),
            headers={**world.staff, "Content-Type": "text/plain"})

        assert_problem(response, 422)
        books.assert_unchanged()

    def test_the_same_body_without_the_trick_is_taken(self, world):
        ok(post_raw(world, REDEMPTION, redemption_text(world, "90")), 201)
        assert world.balance()["points"] == STARTING_POINTS - 90


class TestHugeIntegers:
    @pytest.mark.parametrize("endpoint", [REDEMPTION, "award"])
    def test_a_5000_digit_integer_is_a_validation_problem(self, world, books, endpoint):
        response = post_raw(world, endpoint, with_raw_amount(world, endpoint, "9" * 5_000))

        assert_problem(response, 422, "validation-error")
        assert "整数最多" in response.json()["detail"]
        books.assert_unchanged()

    def test_before_authentication_and_without_a_content_type(self, world, books):
        body = with_raw_amount(world, REDEMPTION, "-" + "1" * 5_000)
        for headers in ({"Content-Type": "application/json"}, {}):
            response = world.client.post("/v1/redemptions", content=body, headers=headers)
            assert_problem(response, 422, "validation-error")
        books.assert_unchanged()

    def test_forty_digits_reach_the_model_and_its_bounds(self, world, books):
        response = post_raw(world, REDEMPTION, with_raw_amount(world, REDEMPTION, "9" * 40))

        assert_problem(response, 422)
        books.assert_unchanged()
