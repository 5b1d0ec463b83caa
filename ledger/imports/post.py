"""The commands of an import: start it, post a chunk of its checked rows (with the rows it
covered, on its lane's record, atomically, so a retry posts nothing twice), finish it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger import ids
from ledger.actor import Actor
from ledger.commands.buildings import building_of_community
from ledger.domain import lots
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset, OwnerKind, PostingKind
from ledger.domain.awards import Award, AwardStatus
from ledger.domain.imports import Import, ImportLane, Progress, answer_of
from ledger.domain.registry import Community, Household, Member
from ledger.errors import CapReached, DomainError, NotFound
from ledger.imports.check import AwardRow, Checked, MemberRow, OpeningRow, Problem
from ledger.write.unit_of_work import Reading, UnitOfWork

OPENING = "期初余额"


def start(community_id: UUID, kind: str, digest: str, rows: int, file_name: str, by: Actor,
          lanes: int = 1) -> Callable[[UnitOfWork], Import]:
    """The import of this file into this community, posted in `lanes` lanes: the one started
    before (with its own lanes), or a new one."""
    def command(uow: UnitOfWork) -> Import:
        by.check_community(community_id, "community", community_id)
        uow.get(Community, community_id)
        found = uow.find(Import, ids.import_id(community_id, kind, digest))
        if found is not None:
            return found
        new = Import(community_id=community_id, kind=kind, digest=digest, rows=rows,
                     file_name=file_name, actor_id=by.id, actor_role=by.role_value,
                     lanes=lanes)
        uow.add(new, *(ImportLane(import_id=new.id, lane=lane, actor_id=by.id,
                                  actor_role=by.role_value) for lane in range(1, lanes)))
        return new

    return command


def finish(import_id: UUID, by: Actor) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Records the import's answer, from what its lanes posted (once), and returns it."""
    def command(uow: UnitOfWork) -> dict[str, Any]:
        record = uow.get(Import, import_id)
        if record.answer is None:
            lanes = [uow.get(ImportLane, lane_id) for lane_id in record.lane_ids()]
            record.finish(answer_of(record, lanes), by)
        assert record.answer is not None
        return record.answer

    return command


GAP = -1  # what `post_chunk` answers when a chunk before it is not posted yet


def post_chunk(import_id: UUID, community_id: UUID, rows: Sequence[Checked | list[Problem]],
               after_row: int, through_row: int, by: Actor, lane: int = 0) -> Reading[int]:
    """Posts the rows of one chunk of lane `lane` (its rows after `after_row` through
    `through_row`) not posted before, and records the chunk on the lane's record; a row the
    ledger refuses now (a cap filled, a member moved out since the check) is recorded with its
    problem, the others stand. Returns the rows posted, or `GAP` (changing nothing) if the
    lane is not posted through `after_row` yet: a chunk before it failed, and the run must go
    on from there."""
    progress_id = import_id if lane == 0 else ImportLane.create_id(import_id, lane)

    def command(uow: UnitOfWork) -> int:
        record = uow.get(Progress, progress_id)
        if record.posted_through >= through_row:
            return 0  # posted by an earlier run
        if record.posted_through < after_row:
            return GAP
        after = record.posted_through
        # The rows' accounts (those let go since fetched) and their new households (those an
        # earlier run posted, the others known not to be there): in one go.
        uow.load_many([*reads[2:], *households])
        chunk = _Chunk(uow.get(Community, community_id), import_id, by, points_accounts)
        problems: list[Problem] = []
        accepted = 0
        for row in rows:
            if isinstance(row, list):
                if row and row[0]["row"] > after:
                    problems.extend(row)
                continue
            if row.row <= after:
                continue
            try:  # each row is refused before it changes anything
                chunk.post(uow, row)
            except DomainError as error:
                problems.append({"row": row.row, "column": "", "detail": error.detail})
            else:
                accepted += 1
        record.chunk_posted(through_row, accepted, problems, by)
        return accepted

    reads: list[UUID] = [progress_id, community_id]
    points_accounts: dict[UUID, UUID] = {}  # member -> points account: each id hashed once
    households: set[UUID] = set()  # not fetched ahead: their absence is believed only here
    for row in rows:
        if isinstance(row, (AwardRow, OpeningRow)):
            account = points_accounts.get(row.member_id)
            if account is None:
                account = points_accounts[row.member_id] = ids.account_id(
                    row.member_id, Asset.POINTS.value)
                reads.append(account)
            if isinstance(row, OpeningRow) and row.minutes:
                reads.append(ids.account_id(row.member_id, Asset.MINUTES.value))
        elif isinstance(row, MemberRow) and row.household and row.household_id is None:
            household = ids.imported_id(household_origin(import_id, row.household))
            households.add(household)
    return Reading(command, tuple(reads))


def household_origin(import_id: UUID, address: str) -> str:
    """What a household an import registers is imported from: the import and a digest of
    its address (which is personal: the event keeps it only encrypted)."""
    return f"{import_id}:户:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


def personal_subjects(import_id: UUID, rows: Sequence[Checked | list[Problem]]) -> list[str]:
    """The members and households the member rows of a chunk register: each has personal
    data, so a key of its own, made for all of them at once before the chunk is posted."""
    subjects: list[str] = []
    for row in rows:
        if isinstance(row, MemberRow) and not row.existing:
            subjects.append(str(Member.create_id(f"{import_id}:{row.row}")))
            if row.household and row.household_id is None:
                subjects.append(str(ids.imported_id(household_origin(import_id,
                                                                     row.household))))
    return subjects


class _Chunk:
    """What the rows of one chunk share: their community, its policy, the names of its
    system accounts, the expiry of each day's lots."""

    def __init__(self, community: Community, import_id: UUID, by: Actor,
                 points_accounts: dict[UUID, UUID]) -> None:
        self.community, self.import_id, self.by = community, import_id, by
        self.points_accounts = points_accounts
        self.policy = community.policy
        self.prefix = f"{import_id}:"
        self.issued = ids.system_account(community.id, Asset.POINTS.value, "issued")
        self.expiries: dict[datetime, str | None] = {}
        self.row_base = ids.row_id(import_id, 0)

    def row_id(self, row: int) -> UUID:
        """The id of what `row` becomes (as `ids.row_id`, without hashing again)."""
        return UUID(int=self.row_base.int | row)

    def post(self, uow: UnitOfWork, row: Checked) -> None:
        origin = f"{self.prefix}{row.row}"
        if isinstance(row, AwardRow):
            self._award(uow, origin, row)
        elif isinstance(row, OpeningRow):
            self._opening(uow, origin, row)
        elif not row.existing:
            _member(uow, self.community, self.import_id, origin, row, self.by)

    def _lot(self, lot_id: UUID, points: int, at: datetime) -> list[lots.Change]:
        """The lot `points` earned `at` become, by the community's policy."""
        try:
            expiry = self.expiries[at]
        except KeyError:
            expires_at = self.policy.expires_at(at, self.community.time_zone)
            expiry = self.expiries[at] = (None if expires_at is None
                                          else lots.instant(expires_at))
        return [[str(lot_id), points, expiry]]

    def _award(self, uow: UnitOfWork, origin: str, row: AwardRow) -> None:
        account = _account(uow, row.member_id, Asset.POINTS, self.points_accounts)
        cap_keys = [k for k, _ in row.caps]
        if row.caps:
            room = account.cap_room(list(row.caps))
            if room is not None and room < row.points:
                raise CapReached("import-cap-room", room=room, points=row.points)
        version, by = row.version, self.by
        award = Award.make(
            member_id=row.member_id, community_id=self.community.id, rule_code=row.rule_code,
            rule_version=version["version"], quantity=row.quantity, minutes=row.minutes,
            points=row.points, status=AwardStatus.POSTED.value, occurred_at=row.occurred_at,
            cap_keys=cap_keys, note=row.note, actor_id=by.id, actor_role=by.role_value,
            requested_points=row.points, imported_from=origin,
            id=self.row_id(row.row))
        account.post(amount=row.points, kind=PostingKind.AWARD, transaction_id=award.id,
                     counter_account=self.issued, by=by, description=version["name"],
                     reference=f"award:{award.id}", cap_keys=cap_keys,
                     new_lots=self._lot(award.id, row.points, row.occurred_at),
                     counterparty=version["name"], occurred_at=row.occurred_at,
                     imported_from=origin)
        uow.add(award, cache=False)

    def _opening(self, uow: UnitOfWork, origin: str, row: OpeningRow) -> None:
        member = uow.get(Member, row.member_id)
        member.check_active()
        community = self.community
        for asset, amount in ((Asset.POINTS, row.points), (Asset.MINUTES, row.minutes)):
            if not amount:
                continue
            account = _account(uow, row.member_id, asset)
            transaction_id = ids.imported_id(f"{origin}:{asset.value}")
            new_lots = (self._lot(transaction_id, amount, row.occurred_at)
                        if asset is Asset.POINTS else None)
            account.post(amount=amount, kind=PostingKind.ADJUSTMENT,
                         transaction_id=transaction_id,
                         counter_account=ids.system_account(community.id, asset.value,
                                                            "opening"),
                         by=self.by, description=row.note or OPENING,
                         reference=f"import:{origin}", new_lots=new_lots,
                         counterparty=OPENING, occurred_at=row.occurred_at,
                         imported_from=origin)


def _account(uow: UnitOfWork, member_id: UUID, asset: Asset,
             known: dict[UUID, UUID] | None = None) -> Account:
    """The member's account of `asset` (`known`: its id by member, if worked out before)."""
    account_id = known.get(member_id) if known is not None else None
    account = uow.find(Account, account_id or ids.account_id(member_id, asset.value))
    if account is None:
        raise NotFound("not-found", thing="member")
    return account


def _member(uow: UnitOfWork, community: Community, import_id: UUID, origin: str,
            row: MemberRow, by: Actor) -> None:
    grid_id: UUID | None = None
    if row.grid:
        grid_id = next((UUID(g) for g, name in community.grids.items() if name == row.grid),
                       None) or community.add_grid(row.grid, by)
    household_id = row.household_id
    if row.household and household_id is None:
        origin_of_household = household_origin(import_id, row.household)
        household = uow.find(Household, ids.imported_id(origin_of_household))
        if household is None:
            if row.building_id is not None:
                grid_id = UUID(str(building_of_community(uow, community.id,
                                                         row.building_id)["grid_id"]))
            household = Household(community_id=community.id, grid_id=grid_id,
                                  address=row.household, actor_id=by.id,
                                  actor_role=by.role_value,
                                  imported_from=origin_of_household)
            uow.add(household)
            if row.building_id is not None:
                household.move_to_building(row.building_id, "导入", by)
        household_id = household.id
        grid_id = grid_id or household.grid_id
    member = Member(community_id=community.id, name=row.name, household_id=household_id,
                    grid_id=grid_id, passbook_no=community.next_passbook_number(),
                    actor_id=by.id, actor_role=by.role_value, imported_from=origin)
    community.issue_passbook_number(member.id, by)
    uow.add(member, *(Account.open(member.id, OwnerKind.MEMBER, community.id, asset, by)
                      for asset in Asset))
