"""Domain errors. Each carries a slug (the last part of its problem `type` in the API), a
message key and its parameters; their words, in Chinese and English, are in
`ledger/messages.py` (its docstring says how a new error joins the catalogue)."""

from __future__ import annotations

from ledger import messages


class DomainError(Exception):
    """A command was refused; nothing was changed. Raised as `Error("message-key", **params)`."""

    slug = "domain-error"
    title = ""  # words come from `messages.TITLES`; this is only the uncatalogued fallback

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params

    def title_in(self, lang: messages.Language) -> str:
        """The problem's title in `lang`."""
        return messages.title(self.slug, lang, self.title)

    def detail_in(self, lang: messages.Language) -> str:
        """The problem's detail in `lang`."""
        return messages.detail(self.key, self.params, lang)

    @property
    def detail(self) -> str:
        """The detail in Chinese (logs, outcomes kept as text)."""
        return self.detail_in(messages.ZH)

    def __str__(self) -> str:
        return self.detail

    def __reduce__(self) -> tuple[object, ...]:
        return _rebuilt, (type(self), self.key, self.params)


def _rebuilt(cls: type[DomainError], key: str, params: dict[str, object]) -> DomainError:
    """An error again, from its pickled parts."""
    return cls(key, **params)


class NotFound(DomainError):
    slug = "not-found"


class InsufficientBalance(DomainError):
    slug = "insufficient-balance"


class RefundExceedsRedemption(DomainError):
    slug = "refund-exceeds-redemption"


class CapReached(DomainError):
    slug = "cap-reached"


class RedemptionLimitReached(DomainError):
    slug = "redemption-limit-reached"


class HoldExpired(DomainError):
    slug = "hold-expired"


class HoldAlreadyCaptured(DomainError):
    slug = "hold-already-captured"


class HoldVoided(DomainError):
    slug = "hold-voided"


class CaptureExceedsHold(DomainError):
    slug = "capture-exceeds-hold"


class NothingToSettle(DomainError):
    slug = "nothing-to-settle"


class InvalidTransition(DomainError):
    slug = "invalid-transition"


class InvalidRequest(DomainError):
    """Input that passed the schema but breaks a domain rule (e.g. a unit mismatch)."""

    slug = "invalid-request"


class WebhookUrlRefused(InvalidRequest):
    """A webhook URL Linli will not send to (not http(s), private, loopback, itself…)."""

    slug = "webhook-url-refused"


class WebhookDisabled(DomainError):
    slug = "webhook-disabled"


class AlreadyExists(DomainError):
    slug = "already-exists"


class AlreadyErased(DomainError):
    """The person's personal data was erased already: nothing more is kept or erased."""

    slug = "already-erased"


class Conflict(DomainError):
    """Concurrent writers kept colliding; the client may retry."""

    slug = "concurrent-modification"


class Unavailable(DomainError):
    """The database could not be reached; the outcome is reported only when known."""

    slug = "unavailable"


class IdempotencyKeyReused(DomainError):
    slug = "idempotency-key-reused"


class StorageCapReached(DomainError):
    slug = "storage-cap-reached"


class GiftNotAllowed(DomainError):
    slug = "gift-not-allowed"


class AgeRequirementNotMet(DomainError):
    slug = "age-requirement-not-met"


class CreditLimitReached(DomainError):
    slug = "credit-limit-reached"


class CommunityInDistrict(DomainError):
    slug = "community-in-district"


class PaymentCodeRequired(DomainError):
    """A till named a member where the community's policy asks for the member's consent."""

    slug = "payment-code-required"


class PaymentCodeInvalid(DomainError):
    slug = "payment-code-invalid"


class PaymentCodeUsed(DomainError):
    slug = "payment-code-used"


class PinInvalid(DomainError):
    slug = "pin-invalid"


class PinLocked(DomainError):
    slug = "pin-locked"


class NotASignInLink(DomainError):
    slug = "not-a-sign-in-link"


class SignInLinkSpent(DomainError):
    slug = "sign-in-link-spent"


class KeyNotRevocable(DomainError):
    """Staff may revoke only member and merchant keys of its community."""

    slug = "forbidden"


class KeyExpiryInPast(DomainError):
    slug = "invalid-request"


class MemberInactive(DomainError):
    """The member moved out or died: it earns, redeems, deposits and withdraws nothing."""

    slug = "member-inactive"


class MerchantClosed(DomainError):
    """The merchant closed: it takes (and holds) no points."""

    slug = "merchant-closed"


# --- corrections of awards and the rulebook -----------------------------------------------
class RuleRetired(DomainError):
    slug = "rule-retired"


class ReversalExceedsAward(DomainError):
    slug = "reversal-exceeds-award"


class AwardAlreadyReversed(InvalidTransition):
    slug = "award-already-reversed"


class FourEyesRequired(DomainError):
    """The community asks another staff member to approve an award (四眼原则)."""

    slug = "four-eyes-required"


# --- activities (活动签到) ------------------------------------------------------------------
class ActivityClosed(DomainError):
    slug = "activity-closed"


class CheckInCodeInvalid(DomainError):
    slug = "check-in-code-invalid"


class CheckInOutsideWindow(DomainError):
    slug = "check-in-outside-window"


class AlreadyCheckedIn(DomainError):
    slug = "already-checked-in"


class NotCheckedIn(DomainError):
    slug = "not-checked-in"


class AlreadyCheckedOut(DomainError):
    slug = "already-checked-out"


# --- teams and the service catalogue ------------------------------------------------------
class ServiceNotInCatalogue(InvalidRequest):
    """The community has a service catalogue and the request names a service not in it."""

    slug = "service-not-in-catalogue"


class OfAnotherCommunity(InvalidRequest):
    """A team and a member, or an order and a team, are of different communities."""

    slug = "of-another-community"


# --- care, wishes and voice ----------------------------------------------------------------
class NotAllowed(DomainError):
    """The caller may reach the thing but not take this step on it (not its observer)."""

    slug = "forbidden"


# --- imports ------------------------------------------------------------------------------
class ImportFileRefused(InvalidRequest):
    """The file as a whole cannot be read: its encoding, no rows, no header, unknown headers."""

    slug = "import-file-refused"


class ImportHasProblems(InvalidRequest):
    """A real run of a file with bad rows: nothing was posted (the dry run lists them)."""

    slug = "import-has-problems"

    def __init__(self, key: str, problems: list[dict[str, object]] | None = None,
                 **params: object) -> None:
        super().__init__(key, **params)
        self.problems = problems or []


class ImportRunning(DomainError):
    slug = "import-running"


class ImportTooLarge(DomainError):
    slug = "import-too-large"


# --- audit without trusting the database ---------------------------------------------------
class TamperedEvent(DomainError):
    """A stored event failed its MAC (or is of no key and no signed seal vouches for it): it
    was written or rewritten outside Linli, and is refused."""

    slug = "tampered-event"
