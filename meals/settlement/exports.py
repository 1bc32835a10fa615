"""A month's settlement as JSON, CSV, XLSX (one sheet per funding source) and a PDF summary.

Amounts are integer fen everywhere; the spreadsheet shows yuan beside the fen it is made of,
so the office can file yuan and anyone can check the sum to the fen.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import msgspec
from jinja2 import Environment
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from meals.pdf import render_pdf
from meals.settings import Settings
from meals.settlement.service import NO_CATEGORY, MonthReport
from meals.words import CATEGORY_LABELS_ZH

FEN_PER_YUAN = 100
EXCEL_FRIENDLY_BOM = "\ufeff"
SUMMARY_TEMPLATE = "settlement/summary_sheet.html"
SITE_KIND_ZH = {"canteen": "社区食堂", "meal_point": "助餐点", "kitchen": "中央厨房"}
FULFILMENT_ZH = {"dine_in": "堂食", "pickup": "自取", "delivery": "送餐"}
CSV_HEADER = ["month", "site", "site_name", "source", "source_name", "meals", "owed_fen"]
SENIOR_PAID = "senior_paid"
YUAN_FORMAT = "#,##0.00"
THIN = Side(style="thin", color="000000")
BOXED = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def yuan(fen: int) -> Decimal:
    return Decimal(fen) / FEN_PER_YUAN


def to_json(report: MonthReport) -> bytes:
    return msgspec.json.format(msgspec.json.encode(report.figures), indent=2) + b"\n"


def to_csv(report: MonthReport) -> str:
    """One row per site and source, then the district totals; seniors' payments as a source."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    figures = report.figures
    for site in [*figures["sites"], {**figures, "site": "TOTAL", "name": "合计"}]:
        for line in site["sources"]:
            writer.writerow(
                [
                    report.label,
                    site["site"],
                    site["name"],
                    line["source"],
                    line["name"],
                    line["meals"],
                    line["owed_fen"],
                ]
            )
        writer.writerow(
            [
                report.label,
                site["site"],
                site["name"],
                SENIOR_PAID,
                "老人自付",
                site["meals"],
                site["senior_paid_fen"],
            ]
        )
    return out.getvalue()


def _state_zh(report: MonthReport) -> str:
    figures = report.figures
    if figures["closed"]:
        return f"已结账（{figures['closed_at'][:16].replace('T', ' ')}，{figures['closed_by']}）"
    return "未结账：数字仍会随核销和更正变动"


def _title(ws: Any, text: str, subtitle: str, width: int) -> None:
    ws.append([text])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([subtitle])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.append([])


def _table(ws: Any, header: list[str], rows: list[list[Any]], yuan_columns: set[int]) -> None:
    """Header, rows and the totals row, boxed; yuan columns formatted to two decimals."""
    first = ws.max_row + 1
    ws.append(header)
    for row in rows:
        ws.append(row)
    for row_cells in ws.iter_rows(min_row=first, max_row=ws.max_row, max_col=len(header)):
        for cell in row_cells:
            cell.border = BOXED
            if cell.row == first or cell.row == ws.max_row:
                cell.font = Font(bold=True)
            if cell.column in yuan_columns and cell.row > first:
                cell.number_format = YUAN_FORMAT
    for column in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(column)].width = 14 if column != 3 else 26


def _source_sheet(wb: Workbook, report: MonthReport, source: dict[str, Any]) -> None:
    code, name = source["source"], source["name"]
    ws = wb.create_sheet(title=f"{name}"[:31])
    header = [
        "序号",
        "站点编码",
        "站点名称",
        "站点类型",
        "就餐人次",
        "其中调整人次",
        "补贴金额（元）",
        "补贴金额（分）",
    ]
    _title(
        ws,
        f"{report.month_start.year}年{report.month_start.month}月 老年助餐服务补贴结算表",
        f"资金来源：{name}（{code}）　结算月份：{report.label}　状态：{_state_zh(report)}",
        len(header),
    )
    rows = []
    for number, site in enumerate(report.figures["sites"], start=1):
        line = next(s for s in site["sources"] if s["source"] == code)
        adjusted = next(s for s in site["adjustments"]["sources"] if s["source"] == code)
        rows.append(
            [
                number,
                site["site"],
                site["name"],
                SITE_KIND_ZH.get(site["kind"], site["kind"]),
                line["meals"],
                adjusted["meals"],
                yuan(line["owed_fen"]),
                line["owed_fen"],
            ]
        )
    adjusted_total = next(
        s for s in report.figures["adjustments"]["sources"] if s["source"] == code
    )
    rows.append(
        [
            "合计",
            "",
            "",
            "",
            source["meals"],
            adjusted_total["meals"],
            yuan(source["owed_fen"]),
            source["owed_fen"],
        ]
    )
    _table(ws, header, rows, yuan_columns={7})
    ws.append([])
    ws.append(["制表：暖心饭结算", "", "", "审核：", "", "盖章：", "", "日期："])


def _summary_sheet(wb: Workbook, report: MonthReport) -> None:
    ws = wb.active
    ws.title = "汇总"
    sources = report.figures["sources"]
    header = [
        "序号",
        "站点编码",
        "站点名称",
        "就餐人次",
        "堂食",
        "自取",
        "送餐",
        "未到",
        "订而未核销",
        "老人自付（元）",
        *[f"{s['name']}（元）" for s in sources],
        "补贴合计（元）",
    ]
    _title(
        ws,
        f"{report.month_start.year}年{report.month_start.month}月 老年助餐服务结算汇总",
        f"结算月份：{report.label}　状态：{_state_zh(report)}　按实际就餐（核销或送达）结算",
        len(header),
    )

    def line(number: Any, site: dict[str, Any]) -> list[Any]:
        return [
            number,
            site.get("site", ""),
            site.get("name", ""),
            site["meals"],
            *[site["fulfilment"][mode] for mode in FULFILMENT_ZH],
            site["no_shows"],
            site["booked_not_served"],
            yuan(site["senior_paid_fen"]),
            *[yuan(s["owed_fen"]) for s in site["sources"]],
            yuan(site["subsidy_fen"]),
        ]

    rows = [line(n, site) for n, site in enumerate(report.figures["sites"], start=1)]
    rows.append(line("合计", {**report.figures, "site": "", "name": ""}))
    money_columns = set(range(10, len(header) + 1))
    _table(ws, header, rows, yuan_columns=money_columns)


def _satisfaction_sheet(wb: Workbook, report: MonthReport, satisfaction: dict[str, Any]) -> None:
    ws = wb.create_sheet(title="满意度回访")
    header = [
        "站点编码",
        "站点名称",
        "评价数",
        "平均星级",
        "低分评价",
        "应回访",
        "已回访",
        "已联系上",
        "回访平均分",
    ]
    _title(
        ws,
        f"{report.month_start.year}年{report.month_start.month}月 满意度回访汇总",
        f"结算月份：{report.label}",
        len(header),
    )
    rows = [
        [
            site["site"],
            site["name"],
            site["ratings"],
            site["average_stars"],
            site["low_ratings"],
            site["callbacks"],
            site["called"],
            site["reached"],
            site["average_score"],
        ]
        for site in satisfaction["sites"]
    ]
    sites = satisfaction["sites"]
    rows.append(
        [
            "合计",
            "",
            *[sum(site[key] for site in sites) for key in ("ratings",)],
            None,
            *[
                sum(site[key] for site in sites)
                for key in ("low_ratings", "callbacks", "called", "reached")
            ],
            None,
        ]
    )
    _table(ws, header, rows, yuan_columns=set())


def to_xlsx(report: MonthReport, satisfaction: dict[str, Any] | None = None) -> bytes:
    """The workbook an office files: a summary, one sheet per funding source, and the month's
    satisfaction (ratings and callbacks) when given."""
    wb = Workbook()
    _summary_sheet(wb, report)
    for source in report.figures["sources"]:
        _source_sheet(wb, report, source)
    if satisfaction is not None:
        _satisfaction_sheet(wb, report, satisfaction)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def summary_html(engine: Environment, report: MonthReport) -> str:
    return engine.get_template(SUMMARY_TEMPLATE).render(
        report=report,
        figures=report.figures,
        state=_state_zh(report),
        kinds=SITE_KIND_ZH,
        fulfilments=FULFILMENT_ZH,
        category_names={**CATEGORY_LABELS_ZH, NO_CATEGORY: "无类别"},
        yuan=lambda fen: f"{yuan(fen):,.2f}",
    )


def to_pdf(engine: Environment, report: MonthReport, settings: Settings) -> bytes:
    """The summary on A4 landscape through WeasyPrint, kept by content like every sheet."""
    return render_pdf(
        summary_html(engine, report), settings.pdf_cache_dir, settings.pdf_cache_files
    )


def download_name(report: MonthReport, extension: str) -> str:
    return f"settlement-{report.label}.{extension}"
