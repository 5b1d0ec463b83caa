"""The papers a community prints, as print-ready HTML (A4): the 志愿服务记录证明."""

from __future__ import annotations

from projections.certificates import Certificate
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
<p>姓名：<b>{e(certificate.name)}</b>　积分存折号：{e(certificate.passbook_no)}
所在社区：{e(certificate.community)}</p>
<h2>二、志愿服务信息</h2>
<p>经核实，该志愿者参加志愿服务{len(rows)}次，累计服务时长
<b>{e(printing.hours(certificate.service_minutes))}</b>（{certificate.service_minutes}分钟）。</p>
{printing.table_pages(["服务日期", "服务内容", "服务时长"], rows, numeric=[2],
                      widths=["32mm", "auto", "30mm"])}
<h2>三、培训信息</h2><p>暂无培训记录</p>
<h2>四、表彰奖励信息</h2><p>暂无表彰奖励记录</p>
<h2>五、服务评价信息</h2><p>{e(evaluation)}</p>
<div class="foot"><div>
<p>特此证明。</p>
<p>出具单位：{e(certificate.community)}（盖章）</p>
<p>记录截至：{e(as_of)}（{e(certificate.time_zone)}）</p>
<p class="small">验证码：{e(certificate.full_code)}<br>扫描右侧二维码或访问下列地址核验本证明：<br>
{e(verify_url)}</p></div>
<div class="qr">{printing.qr_svg(verify_url)}</div></div>"""
    return printing.document(f"志愿服务记录证明 {certificate.number}", body)
