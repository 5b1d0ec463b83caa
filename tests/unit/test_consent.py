"""Consent at the till, in memory: codes as a till types them, the book of live codes, a code
consumed once by an account, the community's policy, and PIN hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from ledger.actor import Actor, Role
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset, OwnerKind, PostingKind
from ledger.domain.consent import (
    BY_PIN,
    CODE_DIGITS,
    Consent,
    ConsentKind,
    ConsentPolicy,
    code_digest,
    new_code,
    typed_code,
)
from ledger.domain.pins import hash_pin, pin_matches
from ledger.domain.policy import PointsPolicy
from ledger.domain.registry import Community
from ledger.errors import (
    IdempotencyKeyReused,
    InsufficientBalance,
    PaymentCodeInvalid,
    PaymentCodeRequired,
    PaymentCodeUsed,
)
from ledger.payment_codes import CodeKey, PaymentCodeBook

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
STAFF = Actor("staff-consent", Role.STAFF)
TILL = Actor("till-consent", Role.MERCHANT)
MEMBER, COMMUNITY = uuid4(), uuid4()


class TestCodes:
    def test_a_code_is_eighteen_digits_and_codes_differ(self) -> None:
        codes = {new_code() for _ in range(1_000)}
        assert len(codes) == 1_000
        assert all(len(c) == CODE_DIGITS and c.isdigit() and c[0] != "0" for c in codes)

    def test_a_till_may_type_spaces_and_hyphens(self) -> None:
        assert typed_code(" 2812 3456-7890 1234 56 ") == "281234567890123456"

    @pytest.mark.parametrize("typed", ["", "12345", "2812345678901234567", "28123456789012345x",
                                       "２８１２３４５６７８９０１２３４５６"])
    def test_anything_but_eighteen_digits_is_invalid(self, typed: str) -> None:
        with pytest.raises(PaymentCodeInvalid):
            typed_code(typed)

    def test_the_digest_names_a_code_without_giving_it_away(self) -> None:
        code = new_code()
        assert code_digest(code) == code_digest(code) != code_digest(new_code())
        assert code not in code_digest(code)


class TestTheBook:
    def test_a_code_is_found_while_it_lives_and_never_after(self) -> None:
        book = PaymentCodeBook(timedelta(seconds=60))
        made = book.make(MEMBER, COMMUNITY, NOW, "key:phone")
        assert book.find(made.code, NOW + timedelta(seconds=59)).member_id == MEMBER
        with pytest.raises(PaymentCodeInvalid):
            book.find(made.code, NOW + timedelta(seconds=60))
        with pytest.raises(PaymentCodeInvalid):
            book.find(new_code(), NOW)

    def test_a_retry_under_the_same_key_gets_the_same_code(self) -> None:
        book = PaymentCodeBook(timedelta(seconds=60))
        key = CodeKey("key:phone", "k1", "fingerprint")
        first = book.make(MEMBER, COMMUNITY, NOW, "key:phone", key)
        assert book.make(MEMBER, COMMUNITY, NOW + timedelta(seconds=5), "key:phone", key) == first
        assert book.make(MEMBER, COMMUNITY, NOW, "key:phone",
                         CodeKey("key:phone", "k2", "fingerprint")).code != first.code
        assert book.make(MEMBER, COMMUNITY, NOW, "key:other",
                         CodeKey("key:other", "k1", "fingerprint")).code != first.code

    def test_the_same_key_for_another_request_is_refused(self) -> None:
        book = PaymentCodeBook(timedelta(seconds=60))
        book.make(MEMBER, COMMUNITY, NOW, "key:staff", CodeKey("key:staff", "k1", "member A"))
        with pytest.raises(IdempotencyKeyReused):
            book.make(uuid4(), COMMUNITY, NOW, "key:staff", CodeKey("key:staff", "k1", "member B"))

    def test_expired_codes_are_forgotten(self) -> None:
        book = PaymentCodeBook(timedelta(seconds=60))
        for _ in range(10):
            book.make(MEMBER, COMMUNITY, NOW, "key:phone")
        book.make(MEMBER, COMMUNITY, NOW + timedelta(minutes=2), "key:phone")
        assert len(book) == 1


def _funded(points: int) -> Account:
    account = Account.open(MEMBER, OwnerKind.MEMBER, COMMUNITY, Asset.POINTS, STAFF)
    account.post(amount=points, kind=PostingKind.AWARD, transaction_id=uuid4(),
                 counter_account="system:issued", by=STAFF)
    return account


def _spend(account: Account, points: int, consent: Consent) -> None:
    account.post(amount=-points, kind=PostingKind.REDEMPTION, transaction_id=uuid4(),
                 counter_account="account:shop", by=TILL, consent=consent)


class TestAnAccountConsumesACodeOnce:
    def test_a_second_debit_or_hold_with_the_code_is_refused(self) -> None:
        account = _funded(100)
        code = PaymentCodeBook(timedelta(seconds=60)).make(MEMBER, COMMUNITY, NOW, "key:phone")
        _spend(account, 10, code.consent)
        with pytest.raises(PaymentCodeUsed):
            _spend(account, 10, code.consent)
        with pytest.raises(PaymentCodeUsed):
            account.place_hold(uuid4(), 5, TILL, code.consent)
        assert account.balance == 90

    def test_a_refused_debit_leaves_the_code_usable(self) -> None:
        account = _funded(5)
        code = PaymentCodeBook(timedelta(seconds=60)).make(MEMBER, COMMUNITY, NOW, "key:phone")
        with pytest.raises(InsufficientBalance):
            _spend(account, 10, code.consent)
        _spend(account, 5, code.consent)
        assert account.balance == 0

    def test_a_hold_consumes_its_code(self) -> None:
        account = _funded(100)
        code = PaymentCodeBook(timedelta(seconds=60)).make(MEMBER, COMMUNITY, NOW, "key:phone")
        account.place_hold(uuid4(), 5, TILL, code.consent)
        with pytest.raises(PaymentCodeUsed):
            _spend(account, 1, code.consent)

    def test_codes_long_expired_are_forgotten_and_a_pin_leaves_nothing(self) -> None:
        account = _funded(100)
        book = PaymentCodeBook(timedelta(seconds=60))
        _spend(account, 1, book.make(MEMBER, COMMUNITY, NOW, "key:phone").consent)
        _spend(account, 1, BY_PIN)
        _spend(account, 1, book.make(MEMBER, COMMUNITY, NOW + timedelta(days=2),
                                     "key:phone").consent)
        assert account.codes_used is not None and len(account.codes_used) == 1

    def test_the_posting_records_the_consent_without_the_code(self) -> None:
        account = _funded(100)
        code = PaymentCodeBook(timedelta(seconds=60)).make(MEMBER, COMMUNITY, NOW, "key:phone")
        _spend(account, 1, code.consent)
        posted = account.pending_events[-1]
        assert posted.consent[:2] == [ConsentKind.PAYMENT_CODE.value, code_digest(code.code)]
        assert posted.consent[3] == "key:phone"
        assert code.code not in repr(posted.__dict__)


class TestThePolicy:
    def test_every_community_asks_for_a_code_unless_it_chose_otherwise(self) -> None:
        assert PointsPolicy.from_dict(None).redemption_consent is ConsentPolicy.PAYMENT_CODE
        recorded_before = {"expiry": "never", "n": 0, "daily_redemption_limit_points": None}
        assert (PointsPolicy.from_dict(recorded_before).redemption_consent
                is ConsentPolicy.PAYMENT_CODE)

    def test_only_a_merchant_naming_a_member_is_refused(self) -> None:
        community = Community(name="湖滨社区", time_zone="Asia/Shanghai", number=1,
                              actor_id=STAFF.id, actor_role=STAFF.role_value)
        with pytest.raises(PaymentCodeRequired):
            community.check_consent(ConsentKind.MEMBER_ID, Role.MERCHANT)
        community.check_consent(ConsentKind.PAYMENT_CODE, Role.MERCHANT)
        community.check_consent(ConsentKind.PIN, Role.MERCHANT)
        community.check_consent(ConsentKind.MEMBER_ID, Role.ADMIN)
        community.set_policy(PointsPolicy(redemption_consent=ConsentPolicy.MEMBER_ID), STAFF)
        community.check_consent(ConsentKind.MEMBER_ID, Role.MERCHANT)


class TestPins:
    def test_a_pin_matches_only_itself_and_its_hash_is_salted(self) -> None:
        stored = hash_pin("246810")
        assert pin_matches("246810", stored)
        assert not pin_matches("246811", stored)
        assert stored != hash_pin("246810")
        assert "246810" not in stored
