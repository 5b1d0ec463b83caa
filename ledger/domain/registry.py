"""The registry: communities (with their grids), households, members and merchants."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor, Role
from ledger.domain.base import LedgerAggregate
from ledger.domain.consent import ConsentKind, ConsentPolicy
from ledger.domain.policy import PointsPolicy, TimeBankPolicy
from ledger.errors import (
    AlreadyErased,
    CommunityInDistrict,
    MemberInactive,
    MerchantClosed,
    NotFound,
    PaymentCodeRequired,
)

DEFAULT_TIME_ZONE = "Asia/Shanghai"
MEMBER_STATUSES = ("active", "moved_out", "deceased")
MERCHANT_STATUSES = ("active", "closed")
ACTIVE = "active"
ERASED_NAME = "已注销居民"  # a member's name once their personal data is erased
ERASED_ADDRESS = "（已注销）"  # a household's address once erased


class Directory(LedgerAggregate):
    """The deployment's register of communities. It numbers them, and each number prefixes its
    community's passbook numbers, so a passbook number is unique across the deployment."""

    @staticmethod
    def create_id() -> UUID:
        return ids.DIRECTORY_ID

    @event("Opened")
    def __init__(self) -> None:
        self.communities_numbered = 0

    @property
    def next_number(self) -> int:
        return self.communities_numbered + 1

    def number(self, community_id: UUID, by: Actor) -> int:
        number = self.next_number
        self._numbered(community_id=community_id, number=number, actor_id=by.id,
                       actor_role=by.role_value)
        return number

    @event("CommunityNumbered")
    def _numbered(self, community_id: UUID, number: int, actor_id: str, actor_role: str) -> None:
        self.communities_numbered = number


class Community(LedgerAggregate):
    """A residential community (社区): grids, time zone, the passbook number sequence, and the
    district (街道) it belongs to, if any (at most one)."""

    district_id: UUID | None = None  # a class default: communities registered in none

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Registered")
    def __init__(
        self, name: str, number: int, time_zone: str, actor_id: str, actor_role: str
    ) -> None:
        self.name = name
        self.number = number
        self.time_zone = time_zone
        self.grids: dict[str, str] = {}
        self.rule_codes: list[str] = []
        self.passbooks_issued = 0
        self.points_policy: dict[str, object] = {}
        self.timebank_policy: dict[str, Any] = {}

    @classmethod
    def register(
        cls, name: str, number: int, by: Actor, time_zone: str = DEFAULT_TIME_ZONE
    ) -> Community:
        return cls(name=name, number=number, time_zone=time_zone, actor_id=by.id,
                   actor_role=by.role_value)

    @property
    def code(self) -> str:
        """The prefix of this community's passbook numbers: its number in the directory."""
        return f"{self.number:04d}"

    def add_grid(self, name: str, by: Actor) -> UUID:
        grid_id = ids.new_id()
        self._grid_added(grid_id=grid_id, name=name, actor_id=by.id, actor_role=by.role_value)
        return grid_id

    def check_grid(self, grid_id: UUID | None) -> None:
        if grid_id is not None and str(grid_id) not in self.grids:
            raise NotFound("grid-not-in-community", community=self.name)

    def next_passbook_number(self) -> str:
        return f"{self.code}-{self.passbooks_issued + 1:06d}"

    def issue_passbook_number(self, member_id: UUID, by: Actor) -> str:
        number = self.next_passbook_number()
        self._passbook_issued(member_id=member_id, passbook_no=number,
                              actor_id=by.id, actor_role=by.role_value)
        return number

    @property
    def policy(self) -> PointsPolicy:
        return PointsPolicy.from_dict(self.points_policy)

    def check_consent(self, kind: ConsentKind, role: Role) -> None:
        """Refuses a merchant's till naming a member where the policy asks for a code."""
        if (kind is ConsentKind.MEMBER_ID and role is Role.MERCHANT
                and self.policy.redemption_consent is ConsentPolicy.PAYMENT_CODE):
            raise PaymentCodeRequired("payment-code-needed")

    def set_policy(self, policy: PointsPolicy, by: Actor) -> None:
        """A new policy applies to points earned (and redemptions made) from now on."""
        self._policy_set(policy=policy.as_dict(), actor_id=by.id, actor_role=by.role_value)

    @event("PolicySet")
    def _policy_set(self, policy: dict[str, object], actor_id: str, actor_role: str) -> None:
        self.points_policy = policy

    @property
    def timebank(self) -> TimeBankPolicy:
        return TimeBankPolicy.from_dict(getattr(self, "timebank_policy", None))

    def set_timebank_policy(self, policy: TimeBankPolicy, by: Actor) -> None:
        self._timebank_policy_set(policy=policy.as_dict(), actor_id=by.id,
                                  actor_role=by.role_value)

    @event("TimeBankPolicySet")
    def _timebank_policy_set(self, policy: dict[str, Any], actor_id: str,
                             actor_role: str) -> None:
        self.timebank_policy = policy

    def add_rule_code(self, code: str, by: Actor) -> None:
        if code not in self.rule_codes:
            self._rule_added(code=code, actor_id=by.id, actor_role=by.role_value)

    @event("RuleAdded")
    def _rule_added(self, code: str, actor_id: str, actor_role: str) -> None:
        self.rule_codes.append(code)

    @event("GridAdded")
    def _grid_added(self, grid_id: UUID, name: str, actor_id: str, actor_role: str) -> None:
        self.grids[str(grid_id)] = name

    @property
    def grid_orders(self) -> dict[str, int]:
        """Each grid's place in lists where set (0 otherwise); lists go by it, then name."""
        orders: dict[str, int] = getattr(self, "sort_orders", {})
        return orders

    def rename_grid(self, grid_id: UUID, name: str, reason: str, by: Actor) -> None:
        """Give a grid a new name; nothing happens when it has that name already."""
        self.check_grid(grid_id)
        if self.grids[str(grid_id)] != name:
            self._grid_renamed(grid_id=grid_id, name=name, reason=reason, actor_id=by.id,
                               actor_role=by.role_value)

    def order_grid(self, grid_id: UUID, sort_order: int, reason: str, by: Actor) -> None:
        """Set where a grid comes in lists; nothing happens when it is there already."""
        self.check_grid(grid_id)
        if self.grid_orders.get(str(grid_id), 0) != sort_order:
            self._grid_ordered(grid_id=grid_id, sort_order=sort_order, reason=reason,
                               actor_id=by.id, actor_role=by.role_value)

    @event("GridRenamed")
    def _grid_renamed(self, grid_id: UUID, name: str, reason: str, actor_id: str,
                      actor_role: str) -> None:
        self.grids[str(grid_id)] = name

    @event("GridOrdered")
    def _grid_ordered(self, grid_id: UUID, sort_order: int, reason: str, actor_id: str,
                      actor_role: str) -> None:
        self.sort_orders = {**self.grid_orders, str(grid_id): sort_order}

    def join_district(self, district_id: UUID, by: Actor) -> None:
        """Belong to a district; a community already in one (another, or this) is refused."""
        if self.district_id is not None:
            raise CommunityInDistrict("community-in-district", community=self.name)
        self._district_joined(district_id=district_id, actor_id=by.id,
                              actor_role=by.role_value)

    @event("DistrictJoined")
    def _district_joined(self, district_id: UUID, actor_id: str, actor_role: str) -> None:
        self.district_id = district_id

    @event("PassbookIssued")
    def _passbook_issued(
        self, member_id: UUID, passbook_no: str, actor_id: str, actor_role: str
    ) -> None:
        self.passbooks_issued += 1


class Household(LedgerAggregate):
    """A household (户): its members' points add up on the family ledger."""

    imported_from: str | None = None  # a class default: households registered before imports

    @staticmethod
    def create_id(imported_from: str | None = None) -> UUID:
        """A new time-ordered id; for a household an import registers, its own."""
        return ids.imported_id(imported_from) if imported_from else ids.new_id()

    @event("Registered")
    def __init__(
        self, community_id: UUID, grid_id: UUID | None, address: str, actor_id: str,
        actor_role: str, imported_from: str | None = None,
    ) -> None:
        self.imported_from = imported_from
        self.community_id = community_id
        self.grid_id = grid_id
        self.address = address

    def change_address(self, address: str, reason: str, by: Actor) -> None:
        """Record a new address; nothing happens when it is the same."""
        if address != self.address:
            self._address_changed(address=address, reason=reason, actor_id=by.id,
                                  actor_role=by.role_value)

    def move_to_grid(self, grid_id: UUID | None, reason: str, by: Actor) -> None:
        """Put the household in another grid (or none). Its members keep their own grids."""
        if grid_id != self.grid_id:
            self._grid_changed(grid_id=grid_id, from_grid_id=self.grid_id, reason=reason,
                               actor_id=by.id, actor_role=by.role_value)

    building_id: UUID | None = None  # its building (楼栋), once put in one

    def move_to_building(self, building_id: UUID | None, reason: str, by: Actor) -> None:
        """Put the household in a building of its community (or none)."""
        if building_id != self.building_id:
            self._building_changed(building_id=building_id, from_building_id=self.building_id,
                                   reason=reason, actor_id=by.id, actor_role=by.role_value)

    @event("BuildingChanged")
    def _building_changed(self, building_id: UUID | None, from_building_id: UUID | None,
                          reason: str, actor_id: str, actor_role: str) -> None:
        self.building_id = building_id

    @event("AddressChanged")
    def _address_changed(self, address: str, reason: str, actor_id: str,
                         actor_role: str) -> None:
        self.address = address

    erased: bool = False

    def erase(self, reason: str, by: Actor) -> None:
        """Erase the address (its key is destroyed after this event); once only."""
        if self.erased:
            raise AlreadyErased("household-already-erased")
        self._erased(reason=reason, actor_id=by.id, actor_role=by.role_value)

    @event("Erased")
    def _erased(self, reason: str, actor_id: str, actor_role: str) -> None:
        self.erased = True
        self.address = ERASED_ADDRESS

    @event("GridChanged")
    def _grid_changed(self, grid_id: UUID | None, from_grid_id: UUID | None, reason: str,
                      actor_id: str, actor_role: str) -> None:
        self.grid_id = grid_id


class Member(LedgerAggregate):
    """A resident (居民) with a passbook (积分存折).

    A member may opt out of public display (公示): public leaderboards and reviews then leave
    them off. Opting out and back in are events, so who asked and when is on record.
    """

    @staticmethod
    def create_id(imported_from: str | None = None) -> UUID:
        """A new time-ordered id; for a row of an import, the row's own."""
        return ids.imported_id(imported_from) if imported_from else ids.new_id()

    imported_from: str | None = None  # a class default: members registered before imports
    # Class defaults, so members restored from snapshots taken before these existed read
    # as listed, with no birth date and no relatives.
    opted_out: bool = False
    born_on: str | None = None  # ISO date
    relatives: tuple[tuple[str, str], ...] = ()  # (member id, relation)
    # The API keys its sign-in links gave (the link's and those traded for it): a new link
    # revokes them all. And when its PIN was last set (the PIN itself is never an event).
    sign_in_keys: tuple[str, ...] = ()
    pin_set_at: str | None = None
    status: str = ACTIVE  # one of MEMBER_STATUSES
    erased: bool = False  # their personal data erased (个人信息删除)

    @event("Registered")
    def __init__(
        self,
        community_id: UUID,
        name: str,
        household_id: UUID | None,
        grid_id: UUID | None,
        passbook_no: str,
        actor_id: str,
        actor_role: str,
        imported_from: str | None = None,
    ) -> None:
        self.imported_from = imported_from
        self.community_id = community_id
        self.name = name
        self.household_id = household_id
        self.grid_id = grid_id
        self.passbook_no = passbook_no
        self.opted_out = False

    def opt_out(self, by: Actor) -> None:
        """Leave public display; nothing happens when already out."""
        if not self.opted_out:
            self._opted_out(actor_id=by.id, actor_role=by.role_value)

    def opt_in(self, by: Actor) -> None:
        """Return to public display; nothing happens when already listed."""
        if self.opted_out:
            self._opted_in(actor_id=by.id, actor_role=by.role_value)

    @property
    def birth_date(self) -> date | None:
        return date.fromisoformat(self.born_on) if self.born_on else None

    def record_birth_date(self, birth_date: date, by: Actor) -> None:
        self.check_not_erased()
        if birth_date != self.birth_date:
            self._birth_date_recorded(born_on=birth_date.isoformat(), actor_id=by.id,
                                      actor_role=by.role_value)

    def add_relative(self, relative_id: UUID, relation: str, by: Actor) -> None:
        """Register a relative (亲属), to whom the policy may limit gifts of minutes."""
        if not any(i == str(relative_id) and r == relation for i, r in self.relatives):
            self._relative_added(relative_id=relative_id, relation=relation, actor_id=by.id,
                                 actor_role=by.role_value)

    def is_relative_of(self, other: Member) -> bool:
        same_household = self.household_id is not None and self.household_id == other.household_id
        return same_household or any(i == str(other.id) for i, _ in self.relatives)

    @event("BirthDateRecorded")
    def _birth_date_recorded(self, born_on: str, actor_id: str, actor_role: str) -> None:
        self.born_on = born_on

    @event("RelativeAdded")
    def _relative_added(self, relative_id: UUID, relation: str, actor_id: str,
                        actor_role: str) -> None:
        kept = tuple(r for r in self.relatives if r[0] != str(relative_id))
        self.relatives = (*kept, (str(relative_id), relation))

    def sign_in_link_made(self, key_id: UUID, by: Actor) -> tuple[str, ...]:
        """Record a new sign-in link's key; returns the keys of earlier links, to revoke."""
        earlier = self.sign_in_keys
        self._sign_in_link_made(key_id=str(key_id), actor_id=by.id, actor_role=by.role_value)
        return earlier

    def signed_in(self, link_key_id: UUID, key_id: UUID, by: Actor) -> None:
        """Record the phone's own key, traded for the link's key."""
        self._signed_in(link_key_id=str(link_key_id), key_id=str(key_id), actor_id=by.id,
                        actor_role=by.role_value)

    def pin_set(self, at: str, by: Actor) -> None:
        """Record that staff or the member set the PIN (its hash is kept apart)."""
        self._pin_set(at=at, actor_id=by.id, actor_role=by.role_value)

    @event("SignInLinkMade")
    def _sign_in_link_made(self, key_id: str, actor_id: str, actor_role: str) -> None:
        self.sign_in_keys = (key_id,)

    @event("SignedIn")
    def _signed_in(self, link_key_id: str, key_id: str, actor_id: str, actor_role: str) -> None:
        self.sign_in_keys = (*self.sign_in_keys, key_id)

    @event("PinSet")
    def _pin_set(self, at: str, actor_id: str, actor_role: str) -> None:
        self.pin_set_at = at

    def check_active(self) -> None:
        """Refuse what an inactive member (moved out, deceased) may no longer do: earn,
        redeem, deposit or withdraw."""
        if self.status != ACTIVE:
            raise MemberInactive("member-moved-out" if self.status == "moved_out"
                                 else "member-deceased")

    def rename(self, name: str, reason: str, by: Actor) -> None:
        """Record a new name; nothing happens when it is the same."""
        self.check_not_erased()
        if name != self.name:
            self._renamed(name=name, reason=reason, actor_id=by.id, actor_role=by.role_value)

    def check_not_erased(self) -> None:
        """Refuse new personal data for a member whose personal data was erased."""
        if self.erased:
            raise AlreadyErased("member-already-erased")

    def erase(self, reason: str, by: Actor) -> None:
        """Erase the member's personal data: their key is destroyed after this event, their
        name reads 「已注销居民」; their points, minutes and history stay. Once only."""
        self.check_not_erased()
        self._erased(reason=reason, actor_id=by.id, actor_role=by.role_value)

    @event("Erased")
    def _erased(self, reason: str, actor_id: str, actor_role: str) -> None:
        self.erased = True
        self.name = ERASED_NAME
        self.born_on = None

    def move(self, household_id: UUID | None, grid_id: UUID | None, reason: str,
             by: Actor) -> None:
        """Put the member in another household and grid (either may be none); the event
        names where they were, so a view can tell where each earlier deed counted."""
        if (household_id, grid_id) != (self.household_id, self.grid_id):
            self._moved(household_id=household_id, grid_id=grid_id,
                        from_household_id=self.household_id, from_grid_id=self.grid_id,
                        reason=reason, actor_id=by.id, actor_role=by.role_value)

    def set_status(self, status: str, reason: str, by: Actor) -> None:
        """Mark the member active, moved out or deceased; nothing happens when it is so."""
        if status not in MEMBER_STATUSES:
            raise ValueError(status)
        if status != self.status:
            self._status_changed(status=status, reason=reason, actor_id=by.id,
                                 actor_role=by.role_value)

    @event("Renamed")
    def _renamed(self, name: str, reason: str, actor_id: str, actor_role: str) -> None:
        self.name = name

    @event("Moved")
    def _moved(self, household_id: UUID | None, grid_id: UUID | None,
               from_household_id: UUID | None, from_grid_id: UUID | None, reason: str,
               actor_id: str, actor_role: str) -> None:
        self.household_id = household_id
        self.grid_id = grid_id

    @event("StatusChanged")
    def _status_changed(self, status: str, reason: str, actor_id: str, actor_role: str) -> None:
        self.status = status

    @event("OptedOut")
    def _opted_out(self, actor_id: str, actor_role: str) -> None:
        self.opted_out = True

    @event("OptedIn")
    def _opted_in(self, actor_id: str, actor_role: str) -> None:
        self.opted_out = False


class Merchant(LedgerAggregate):
    """A merchant (商户) that takes points at its till."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Registered")
    def __init__(self, community_id: UUID, name: str, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.name = name

    status: str = ACTIVE  # one of MERCHANT_STATUSES

    def check_open(self) -> None:
        """Refuse a closed merchant's redemptions and holds."""
        if self.status != ACTIVE:
            raise MerchantClosed("merchant-closed", merchant=self.name)

    def rename(self, name: str, reason: str, by: Actor) -> None:
        """Record a new name; nothing happens when it is the same."""
        if name != self.name:
            self._renamed(name=name, reason=reason, actor_id=by.id, actor_role=by.role_value)

    def set_status(self, status: str, reason: str, by: Actor) -> None:
        """Mark the merchant open (active) or closed; nothing happens when it is so."""
        if status not in MERCHANT_STATUSES:
            raise ValueError(status)
        if status != self.status:
            self._status_changed(status=status, reason=reason, actor_id=by.id,
                                 actor_role=by.role_value)

    @event("Renamed")
    def _renamed(self, name: str, reason: str, actor_id: str, actor_role: str) -> None:
        self.name = name

    @event("StatusChanged")
    def _status_changed(self, status: str, reason: str, actor_id: str, actor_role: str) -> None:
        self.status = status
