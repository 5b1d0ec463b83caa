"""The papers a community prints, as print-ready HTML (A4): the 志愿服务记录证明, a member's
积分存折 over a period, the 公示 sheet of the 公益达人榜 and the quarterly review."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from api.schemas_reports import ReviewOut
from ledger import messages
from projections.certificates import Certificate
from projections.printables import PassbookPeriod
from web import printing


def render_html(certificate: Certificate, verify_url: str,
                rated: tuple[int, float | None] = (0, None)) -> str:
    """The certificate, print-ready (A4, 40 service lines a page), in Chinese: the five parts
    of 《志愿服务记录与证明出具办法》, the issuing community, the serial number, and a QR code
    of the public verification address."""
    e = printing.e
    rows = [(line.day.strftime("%Y年%m月%d日"), line.description, printing.hours(line.minutes))
            for line in certificate.lines]
    count, mean = rated
    evaluation = (f"服务对象评价{count}次，平均{mean:.1f}星（满分5星）" if count and mean
                  else "暂无服务评价记录")
    as_of = certificate.as_of.strftime("%Y年%m月%d日 %H:%M") if certificate.as_of else ""
    body = f"""<h1>志愿服务记录证明</h1>
<div class="meta"><span>证明编号：{e(certificate.number)}</span>
<span>出具单位：{e(certificate.community)}</span></div>
<h2>一、个人基本信息</h2>
<p>姓名：<b>{e(certificate.name)}</b>　积分存折号：{e(certificate.passbook_no)}　<!--
-->所在社区：{e(certificate.community)}</p>
<h2>二、志愿服务信息</h2>
<p>经核实，该志愿者参加志愿服务{len(rows)}次，累计服务时长
<b>{e(printing.hours(certificate.service_minutes))}</b>（{certificate.service_minutes}分钟）。</p>
{printing.table_pages(["服务日期", "服务内容", "服务时长"], rows, numeric=[2],
                      widths=["32mm", "auto", "30mm"])}
<p class="part"><b>三、培训信息</b>　暂无培训记录</p>
<p class="part"><b>四、表彰奖励信息</b>　暂无表彰奖励记录</p>
<p class="part"><b>五、服务评价信息</b>　{e(evaluation)}</p>
<div class="foot"><div>
<p>特此证明。　出具单位：{e(certificate.community)}（盖章）</p>
<p>记录截至：{e(as_of)}（{e(certificate.time_zone)}）</p>
<p class="small">验证码：{e(certificate.full_code)}　扫描右侧二维码或访问此地址核验：<br>
{e(verify_url)}</p></div>
<div class="qr">{printing.qr_svg(verify_url)}</div></div>"""
    return printing.document(f"志愿服务记录证明 {certificate.number}", body)


def _period_label(period: str, lang: str) -> str:
    return messages.word("all_time", lang) if period == "all" else period


def passbook_html(*, name: str, passbook_no: str, community: str, asset: str, period: str,
                  found: PassbookPeriod, zone: ZoneInfo, printed_at: datetime,
                  lang: str) -> str:
    """A member's passbook (积分存折) over a period: opening balance, each line (40 a page),
    totals and closing balance, dated in the community's time zone."""
    w = partial(messages.word, lang=lang)
    e = printing.e
    title = w("passbook") if asset == "POINTS" else w("time_passbook")
    unit = w("points") if asset == "POINTS" else w("minutes")
    rows = [(line["at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"), w(line["kind"]),
             line["description"] + (f"（{line['counterparty']}）"
                                    if line["counterparty"]
                                    and line["counterparty"] != line["description"] else ""),
             f"{line['amount']:+d}", line["balance_after"]) for line in found.lines]
    table = printing.table_pages([w("at"), w("kind"), w("description"), unit,
                                  w("balance_after")], rows, numeric=[3, 4],
                                 widths=["30mm", "24mm", "auto", "20mm", "22mm"])
    body = f"""<h1>{e(title)}</h1>
<div class="meta"><span>{e(w("holder"))}：<b>{e(name)}</b></span>
<span>{e(w("passbook_no"))}：{e(passbook_no)}</span>
<span>{e(w("community"))}：{e(community)}</span></div>
<div class="meta"><span>{e(w("period"))}：{e(_period_label(period, lang))}</span>
<span>{e(w("opening_balance"))}：{found.opening}</span>
<span>{e(w("printed_at"))}：{e(printed_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"))}</span>
</div>
{table if rows else f"<p>{e(w('no_lines'))}</p>"}
<div class="meta" style="margin-top:2mm"><span>{e(w("total_in"))}：{found.total_in}</span>
<span>{e(w("total_out"))}：{found.total_out}</span>
<span><b>{e(w("closing_balance"))}：{found.closing}</b></span></div>"""
    return printing.document(f"{title} {passbook_no} {period}", body,
                             "en" if lang == "en" else "zh-CN")


def board_html(*, community: str, period: str, subject: str, asset: str,
               standings: list[tuple[int, str, int]], printed_at: datetime, zone: ZoneInfo,
               lang: str) -> str:
    """The 公示 sheet of the 公益达人榜: rank, masked name, what was earned."""
    w = partial(messages.word, lang=lang)
    e = printing.e
    unit = w("points") if asset == "POINTS" else w("minutes")
    table = printing.table_pages([w("rank"), w(subject), unit], standings, numeric=[0, 2],
                                 widths=["20mm", "auto", "40mm"])
    body = f"""<h1>{e(community)} {e(w("board_title"))}</h1>
<div class="meta"><span>{e(w("period"))}：{e(_period_label(period, lang))}</span>
<span>{e(w("printed_at"))}：{e(printed_at.astimezone(zone).strftime("%Y-%m-%d"))}</span></div>
{table if standings else f"<p>{e(w('no_lines'))}</p>"}
<p class="small" style="margin-top:3mm">{e(w("board_note"))}</p>"""
    return printing.document(f"{community} {w('board_title')} {period}", body,
                             "en" if lang == "en" else "zh-CN")


def review_html(review: ReviewOut, community: str, lang: str) -> str:
    """The quarterly review (季度积分评议), print-ready: summary, every member and household
    that earned, points by rule and by grid, service figures."""
    w = partial(messages.word, lang=lang)
    e = printing.e
    now, before, change = (review.summary.model_dump(), review.previous.model_dump(),
                           review.change.model_dump())
    summary = [(w(f), now[f], before[f], change[f]) for f in
               ("points_earned", "banked_hours", "participants", "members",
                "participation_percent")]
    if review.service is not None and review.previous_service is not None:
        s_now, s_then = review.service.model_dump(), review.previous_service.model_dump()
        summary += [(w(f), _blank(s_now[f]), _blank(s_then[f]), "")
                    for f in ("requests", "completed", "satisfaction_percent")]
    figures = [w("name"), w("quarter") + " " + review.quarter,
               w("previous_quarter") + " " + review.previous_quarter, w("change")]
    parts = [f"<h1>{e(community)} {e(review.quarter)} {e(w('review'))}</h1>",
             f"<h2>{e(w('summary'))}</h2>",
             printing.table_pages(figures, summary, numeric=[1, 2, 3])]
    for section, standings in (("top_members", review.top_members),
                               ("top_households", review.top_households)):
        parts.append(f"<h2>{e(w(section))}</h2>")
        parts.append(printing.table_pages(
            [w("rank"), w("name"), w("points")],
            [(s.rank, s.name, s.earned) for s in standings], numeric=[0, 2],
            widths=["20mm", "auto", "40mm"]) if standings else f"<p>{e(w('no_lines'))}</p>")
    parts.append(f"<h2>{e(w('points_by_rule'))}</h2>")
    parts.append(printing.table_pages(figures, [(r.name, r.points, r.previous_points, r.change)
                                                for r in review.points_by_rule],
                                      numeric=[1, 2, 3]))
    parts.append(f"<h2>{e(w('points_by_grid'))}</h2>")
    parts.append(printing.table_pages(figures, [(g.name or w("no_grid"), g.points,
                                                 g.previous_points, g.change)
                                                for g in review.points_by_grid],
                                      numeric=[1, 2, 3]))
    return printing.document(f"{community} {review.quarter} {w('review')}", "\n".join(parts),
                             "en" if lang == "en" else "zh-CN")


def _blank(value: object) -> object:
    return "" if value is None else value
