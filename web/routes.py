"""The pages, the QR codes and the dashboard charts."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

import segno
from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from api.deps import LinliDep, StaffOrAuditor, caught_up, readable_community, visible_district
from api.errors import ApiProblem
from ledger.errors import NotFound
from projections import districts, reports, services
from projections.periods import YEAR_MAX, YEAR_MIN
from web.charts import MAX_WIDTH, MIN_WIDTH, WIDTH, Series, bar_chart
from web.i18n import HTML_LANG, MESSAGES, chosen_lang

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
PAGES = ("signin", "volunteer", "screen", "staff", "till", "card", "activity", "checkin")
LANG_COOKIE = "linli_lang"
QR_TEXT_MAX = 300
# The pages hold a bearer token: allow scripts and styles from this origin only.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "style-src 'self'; script-src 'self'; object-src 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)
# The width a chart is drawn at: the width the page shows it at, so its text keeps its size.
ChartWidth = Annotated[int, Query(ge=MIN_WIDTH, le=MAX_WIDTH)]


def _render(request: Request, page: str, lang: str | None) -> HTMLResponse:
    chosen = chosen_lang(lang, request.cookies.get(LANG_COOKIE))
    words = MESSAGES[chosen]
    other = "en" if chosen == "zh" else "zh"
    response = TEMPLATES.TemplateResponse(request, f"{page}.html", {
        "page": page, "lang": chosen, "html_lang": HTML_LANG[chosen], "t": words,
        "words_json": json.dumps(words, ensure_ascii=False),
        "switch_url": f"{request.url.path}?lang={other}",
    }, headers=SECURITY_HEADERS)
    if lang is not None and lang == chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/web/", status_code=307)


@router.get("/web/", response_class=HTMLResponse)
def index(request: Request, lang: str | None = None) -> HTMLResponse:
    return _render(request, "index", lang)


def _qr_svg(text: str) -> Response:
    if not text or len(text) > QR_TEXT_MAX:
        raise ApiProblem(422, "invalid-request", "qr-text", max=QR_TEXT_MAX)
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=8, border=2, xmldecl=False,
                                     title=text if len(text) <= 40 else None)
    return Response(buffer.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get("/web/qr.svg")
def qr_code(text: Annotated[str, Query(max_length=QR_TEXT_MAX)]) -> Response:
    """A QR code of a short public text, such as a passbook number."""
    return _qr_svg(text)


class QrIn(BaseModel):
    text: str = Field(min_length=1, max_length=QR_TEXT_MAX)


@router.post("/web/qr.svg")
def qr_code_of_secret(body: Annotated[QrIn, Body()]) -> Response:
    """A QR code of a secret (a sign-in link): sent in the body, so it stays out of logs."""
    response = _qr_svg(body.text)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/web/charts/dashboard.svg")
def dashboard_chart(
    actor: StaffOrAuditor,
    linli: LinliDep,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX)],
    figure: Literal["points", "hours"] = "points",
    community_id: UUID | None = None,
    lang: Literal["zh", "en"] = "zh",
    width: ChartWidth = WIDTH,
) -> Response:
    """The dashboard's monthly figures as a bar chart: points issued and redeemed, or hours
    banked (whole hours, rounded down)."""
    community = readable_community(linli, actor, community_id)
    figures = reports.dashboard(linli.engine, community, year)
    words = MESSAGES[lang]
    labels = [(f"{int(m.month[5:])}月" if lang == "zh" else m.month[5:]) for m in figures.months]
    if figure == "points":
        svg = bar_chart(f"{year} {words['chart_points']}", labels, [
            Series(words["issued"], [m.points_issued for m in figures.months]),
            Series(words["redeemed"], [m.points_redeemed for m in figures.months]),
        ], width=width, empty=words["chart_empty"])
    else:
        svg = bar_chart(f"{year} {words['chart_hours']}", labels, [
            Series(words["banked"], [m.minutes_deposited // 60 for m in figures.months]),
        ], width=width, empty=words["chart_empty"])
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/web/charts/district.svg")
def district_chart(
    actor: StaffOrAuditor,
    linli: LinliDep,
    district_id: UUID,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX)],
    figure: Literal["hours", "points", "communities"] = "hours",
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """A district's dashboard as a bar chart: hours banked and used, or points issued and
    redeemed, month by month; or each community's hours of the year."""
    district = visible_district(linli, actor, district_id, community_roles=False)
    caught_up(linli)
    figures = districts.dashboard(linli.engine, [str(c) for c in district.communities], year,
                                  district.time_zone)
    words = MESSAGES[lang]
    labels = [(f"{int(m.month[5:])}月" if lang == "zh" else m.month[5:]) for m in figures.months]
    if figure == "hours":
        svg = bar_chart(f"{district.name} {year} {words['chart_district_hours']}", labels, [
            Series(words["banked"], [m.minutes_deposited // 60 for m in figures.months]),
            Series(words["used"], [m.minutes_withdrawn // 60 for m in figures.months])])
    elif figure == "points":
        svg = bar_chart(f"{district.name} {year} {words['chart_district_points']}", labels, [
            Series(words["issued"], [m.points_issued for m in figures.months]),
            Series(words["redeemed"], [m.points_redeemed for m in figures.months])])
    else:
        rows = figures.communities
        svg = bar_chart(f"{district.name} {year} {words['chart_district_communities']}",
                        [c.name for c in rows], [
                            Series(words["banked"], [c.total.minutes_deposited // 60
                                                     for c in rows]),
                            Series(words["used"], [c.total.minutes_withdrawn // 60
                                                   for c in rows])])
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/web/charts/service.svg")
def service_chart(
    actor: StaffOrAuditor,
    linli: LinliDep,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX)],
    community_id: UUID | None = None,
    lang: Literal["zh", "en"] = "zh",
    width: ChartWidth = WIDTH,
) -> Response:
    """Service orders requested each month of the year, and how many were completed and
    rated (the service report, month by month)."""
    community = readable_community(linli, actor, community_id)
    words = MESSAGES[lang]
    months = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    figures = [services.service_report(
        linli.engine, community["community_id"],
        services.period_bounds(month, community["time_zone"])) for month in months]
    labels = [(f"{int(m[5:])}月" if lang == "zh" else m[5:]) for m in months]
    svg = bar_chart(f"{year} {words['chart_service']}", labels, [
        Series(words[f"report_{k}"], [f[k] for f in figures])
        for k in ("requests", "completed", "rated")], width=width, empty=words["chart_empty"])
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# Last: it would otherwise take the paths above.
@router.get("/web/{page}", response_class=HTMLResponse)
def page(request: Request, page: str, lang: str | None = None) -> HTMLResponse:
    if page not in PAGES:
        raise NotFound("no-page")
    return _render(request, page, lang)
