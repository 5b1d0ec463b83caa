"""Domain errors. Each carries a slug: the last part of its problem `type` in the API."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was changed."""

    slug = "domain-error"
    title = "The request was refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    slug = "not-found"
    title = "Not found"


class InsufficientBalance(DomainError):
    slug = "insufficient-balance"
    title = "Not enough available balance"


class RefundExceedsRedemption(DomainError):
    slug = "refund-exceeds-redemption"
    title = "The refund is more than what is left of the redemption"


class CapReached(DomainError):
    slug = "cap-reached"
    title = "The rule's cap is reached"


class RedemptionLimitReached(DomainError):
    slug = "redemption-limit-reached"
    title = "The member's daily redemption limit is reached"


class HoldExpired(DomainError):
    slug = "hold-expired"
    title = "The hold has expired"


class HoldAlreadyCaptured(DomainError):
    slug = "hold-already-captured"
    title = "The hold was already captured"


class HoldVoided(DomainError):
    slug = "hold-voided"
    title = "The hold was voided"


class CaptureExceedsHold(DomainError):
    slug = "capture-exceeds-hold"
    title = "The capture is more than the hold"


class NothingToSettle(DomainError):
    slug = "nothing-to-settle"
    title = "Nothing to settle"


class InvalidTransition(DomainError):
    slug = "invalid-transition"
    title = "That step is not allowed in the current state"


class InvalidRequest(DomainError):
    """Input that passed the schema but breaks a domain rule (e.g. a unit mismatch)."""

    slug = "invalid-request"
    title = "The request is not valid"


class AlreadyExists(DomainError):
    slug = "already-exists"
    title = "It already exists"


class Conflict(DomainError):
    """Concurrent writers kept colliding; the client may retry."""

    slug = "concurrent-modification"
    title = "Concurrent modification"


class Unavailable(DomainError):
    """The database could not be reached; the outcome is reported only when known."""

    slug = "unavailable"
    title = "服务暂时不可用"


class IdempotencyKeyReused(DomainError):
    slug = "idempotency-key-reused"
    title = "The idempotency key was used with a different request"


class StorageCapReached(DomainError):
    slug = "storage-cap-reached"
    title = "The member's time-bank storage cap is reached"


class GiftNotAllowed(DomainError):
    slug = "gift-not-allowed"
    title = "The community's policy does not allow this gift"


class AgeRequirementNotMet(DomainError):
    slug = "age-requirement-not-met"
    title = "The member is too young (or has no birth date) to withdraw minutes"


class CreditLimitReached(DomainError):
    slug = "credit-limit-reached"
    title = "The partner community's credit limit is reached"


class PaymentCodeRequired(DomainError):
    """A till named a member where the community's policy asks for the member's consent."""

    slug = "payment-code-required"
    title = "需要付款码"


class PaymentCodeInvalid(DomainError):
    slug = "payment-code-invalid"
    title = "付款码无效或已过期"


class PaymentCodeUsed(DomainError):
    slug = "payment-code-used"
    title = "付款码已使用"


class PinInvalid(DomainError):
    slug = "pin-invalid"
    title = "存折号或密码不正确"


class PinLocked(DomainError):
    slug = "pin-locked"
    title = "密码已锁定"


class NotASignInLink(DomainError):
    slug = "not-a-sign-in-link"
    title = "这不是登录链接"


class SignInLinkSpent(DomainError):
    slug = "sign-in-link-spent"
    title = "登录链接已失效"


class KeyNotRevocable(DomainError):
    """Staff may revoke only member and merchant keys of its community."""

    slug = "forbidden"
    title = "无权吊销此密钥"


class KeyExpiryInPast(DomainError):
    slug = "invalid-request"
    title = "密钥的到期时间已过"


class MemberInactive(DomainError):
    """The member moved out or died: it earns, redeems, deposits and withdraws nothing."""

    slug = "member-inactive"
    title = "居民已不在册"


class MerchantClosed(DomainError):
    """The merchant closed: it takes (and holds) no points."""

    slug = "merchant-closed"
    title = "商户已停业"


# --- corrections of awards and the rulebook -----------------------------------------------
class RuleRetired(DomainError):
    slug = "rule-retired"
    title = "规则已停用"


class ReversalExceedsAward(DomainError):
    slug = "reversal-exceeds-award"
    title = "冲正积分超过了这笔发放剩余的积分"


class AwardAlreadyReversed(InvalidTransition):
    slug = "award-already-reversed"
    title = "这笔发放已经全部冲正"


class FourEyesRequired(DomainError):
    """The community asks another staff member to approve an award (四眼原则)."""

    slug = "four-eyes-required"
    title = "需要另一位工作人员审核"


# --- activities (活动签到) ------------------------------------------------------------------
class ActivityClosed(DomainError):
    slug = "activity-closed"
    title = "活动已结束签到"


class CheckInCodeInvalid(DomainError):
    slug = "check-in-code-invalid"
    title = "签到码无效或已过期"


class CheckInOutsideWindow(DomainError):
    slug = "check-in-outside-window"
    title = "不在活动签到时间内"


class AlreadyCheckedIn(DomainError):
    slug = "already-checked-in"
    title = "已经签到过了"


class NotCheckedIn(DomainError):
    slug = "not-checked-in"
    title = "还没有签到，不能签退"


class AlreadyCheckedOut(DomainError):
    slug = "already-checked-out"
    title = "已经签退过了"


# --- teams and the service catalogue ------------------------------------------------------
class ServiceNotInCatalogue(InvalidRequest):
    """The community has a service catalogue and the request names a service not in it."""

    slug = "service-not-in-catalogue"
    title = "服务项目不在本社区的服务目录中"


class OfAnotherCommunity(InvalidRequest):
    """A team and a member, or an order and a team, are of different communities."""

    slug = "of-another-community"
    title = "不属于同一社区"


# --- audit without trusting the database ---------------------------------------------------
class TamperedEvent(DomainError):
    """A stored event failed its MAC (or is of no key and no signed seal vouches for it): it
    was written or rewritten outside Linli, and is refused."""

    slug = "tampered-event"
    title = "存储的事件未通过完整性校验，已拒绝使用"
