"""Papers to print (or open in a spreadsheet) from the staff console: a member's 积分存折 over
a period, and the monthly 公示 sheet of the 公益达人榜. HTML is print-ready (A4); CSV and XLSX
as every export. Words follow Accept-Language."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from api import language
from api.access_log import PersonalReadsDep
from api.deps import AnyRoleActor, CaughtUp, LinliDep, VisibleMember, load, readable_community
from api.errors import ApiProblem
from api.exports import XLSX_TYPE, Format, Sheet, export, word
from ledger.domain.assets import Asset
from ledger.domain.registry import Community
from projections import periods
from projections.leaderboard_ranking import ranking
from projections.printables import bounds, passbook_period
from web.papers import board_html, passbook_html

router = APIRouter(prefix="/v1", tags=["printables"])

PaperFormat = Literal["html", "csv", "xlsx"]
PAPER = {"description": "print-ready HTML (A4) by default; CSV or XLSX with ?format=",
         "content": {"text/html": {}, "text/csv": {}, XLSX_TYPE: {}}}
BOARD_MAX = 1_000


def _period(period: str) -> str:
    if not periods.is_period(period):
        raise ApiProblem(422, "invalid-period", "period", period=period)
    return period


@router.get("/members/{member_id}/passbook/statement", response_class=Response,
            responses={200: PAPER})
def get_passbook_statement(
    member_id: UUID,
    member: VisibleMember,
    linli: CaughtUp,
    reads: PersonalReadsDep,
    asset: Asset = Asset.POINTS,
    period: Annotated[str, Query(max_length=8, description="all, YYYY, YYYY-Qn or YYYY-MM, "
                                 "in the community's time zone")] = periods.ALL,
    format: PaperFormat = "html",
) -> Response:
    """The member's passbook (积分存折) over a period: opening balance, every line, totals
    and closing balance, dated in the community's time zone."""
    community = load(linli, Community, member.community_id)
    zone = periods.zone(community.time_zone)
    start, end = bounds(_period(period), zone)
    found = passbook_period(linli.engine, member_id, asset, start, end)
    reads.record("姓名（存折打印）", [member_id], member.community_id)
    if format == "html":
        return HTMLResponse(passbook_html(
            name=member.name, passbook_no=member.passbook_no, community=community.name,
            asset=asset.value, period=period, found=found, zone=zone,
            printed_at=linli.clock(), lang=language.current()))
    sheet = Sheet(f"{word('passbook')} {period}", ["at", "kind", "amount", "balance_after",
                                                    "reference", "description"],
                  time_zone=community.time_zone, totals=3)
    sheet.rows.append([None, word("opening_balance"), None, found.opening, "", ""])
    sheet.rows.extend([line["at"], word(line["kind"]), line["amount"], line["balance_after"],
                       line["reference"], line["description"]] for line in found.lines)
    sheet.rows.extend([[None, word("total_in"), found.total_in, None, "", ""],
                       [None, word("total_out"), found.total_out, None, "", ""],
                       [None, word("closing_balance"), None, found.closing, "", ""]])
    return export(sheet, Format(format), f"passbook-{member.passbook_no}-{period}")


@router.get("/communities/{community_id}/boards/{period}", response_class=Response,
            responses={200: PAPER})
def get_board_notice(
    community_id: UUID,
    period: str,
    actor: AnyRoleActor,
    linli: LinliDep,
    subject: Literal["member", "household"] = "member",
    asset: Asset = Asset.POINTS,
    top: Annotated[int, Query(ge=1, le=BOARD_MAX)] = 100,
    format: PaperFormat = "html",
) -> Response:
    """The 公示 sheet of the 公益达人榜 for a period (a month, usually): names masked, members
    who opted out left off, whoever asks."""
    community = readable_community(linli, actor, community_id)
    standings = ranking(linli.engine, community["community_id"], period=_period(period),
                        subject=subject, asset=asset.value, grid_id=None, limit=top,
                        public=True)
    rows = [(s.rank, s.name, s.earned) for s in standings]
    if format == "html":
        zone = periods.zone(community["time_zone"])
        return HTMLResponse(board_html(
            community=community["name"], period=period, subject=subject, asset=asset.value,
            standings=rows, printed_at=linli.clock(), zone=zone, lang=language.current()))
    sheet = Sheet(f"{word('board')} {period}", ["rank", subject, "earned"],
                  time_zone=community["time_zone"])
    sheet.rows.extend(list(row) for row in rows)
    return export(sheet, Format(format), f"board-{period}")
