"""The settlement pages (operator and civil affairs), the PDF summary and the CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from openpyxl import load_workbook
from pypdf import PdfReader

from meals.pages.i18n import Language
from meals.words import Role
from tests.conftest import TEST_SECRET
from tests.meals.helpers import login_as
from tests.pages.helpers import csrf_token, submit, visible_text

CHINESE = Language("zh_CN")


async def test_operator_reads_a_month_drills_down_and_closes_it_from_the_page(client, db, history):
    await login_as(client, db, Role.ADMIN)
    figures = (await client.get("/api/v1/settlement/2026-10")).json()

    page = await client.get("/settlement?month=2026-10")
    text = visible_text(page.text)
    drilled = visible_text((await client.get("/settlement/2026-10/bookings?outcome=no_show")).text)
    closed = await submit(client, "/settlement?month=2026-10", "/settlement/2026-10/close", {})
    after = visible_text((await client.get("/settlement?month=2026-10")).text)

    assert page.status_code == 200
    assert "2026-10 结算" in text and "未结账" in text
    assert f"实际就餐人次 {figures['meals']}" in text
    assert f"应付补贴 {CHINESE.money(figures['subsidy_fen'])}" in text
    for source in figures["sources"]:
        assert CHINESE.money(source["owed_fen"]) in text
    assert f"列出的订单 {figures['no_shows']}" in drilled
    assert closed.status_code == 303 and closed.headers["location"] == "/settlement?month=2026-10"
    assert "2026-10 已结账，数字已冻结。" in after
    assert "这些数字已冻结；此后对该月餐次的更正计入 2026-11 作为调整。" in after
    assert "结账 2026-10" not in after  # no close button on a closed month


async def test_a_second_close_is_refused_with_its_sentence_and_civil_affairs_only_reads(
    client, db, history
):
    await login_as(client, db, Role.ADMIN)
    form = await client.get("/settlement?month=2026-10")
    assert (await client.post("/api/v1/settlement/2026-10/close")).status_code == 200
    again = await client.post(
        "/settlement/2026-10/close",
        data={"_csrf_token": csrf_token(form.text)},
        follow_redirects=False,
    )
    await login_as(client, db, Role.VIEWER)
    viewer_page = await client.get("/settlement?month=2026-10")
    viewer_close = await client.post(
        "/settlement/2026-10/close", data={"_csrf_token": csrf_token(viewer_page.text)}
    )

    assert again.status_code == 409
    assert "2026-10 已于" in visible_text(again.text)
    assert "对该月餐次的更正计入 2026-11 作为调整" in visible_text(again.text)
    assert viewer_page.status_code == 200
    assert "结账 2026-10" not in visible_text(viewer_page.text)
    assert viewer_close.status_code == 403


async def test_the_pdf_summary_and_xlsx_carry_the_months_totals(client, db, history, tmp_path):
    await login_as(client, db, Role.VIEWER)
    figures = (await client.get("/api/v1/settlement/2026-10")).json()

    pdf = await client.get("/api/v1/settlement/2026-10?format=pdf")
    xlsx = await client.get("/api/v1/settlement/2026-10?format=xlsx")

    assert pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf.content)
    # the CJK font's text comes out with NUL padding; the figures are plain ASCII digits
    text = "".join(page.extract_text() for page in PdfReader(path).pages).replace("\x00", "")
    assert "2026-10" in text and str(figures["meals"]) in text
    assert f"{figures['subsidy_fen'] / 100:,.2f}" in text
    workbook = load_workbook(io.BytesIO(xlsx.content))
    summary = workbook["汇总"]
    total = next(row for row in summary.iter_rows(values_only=True) if row[0] == "合计")
    assert total[3] == figures["meals"]
    assert round(total[-1] * 100) == figures["subsidy_fen"]
    satisfaction = (await client.get("/api/v1/callbacks/2026-10/summary")).json()
    rated = {
        row[0]: row[2]
        for row in workbook["满意度回访"].iter_rows(values_only=True)
        if row[0] and row[0] != "合计" and isinstance(row[2], int)
    }
    assert rated == {site["site"]: site["ratings"] for site in satisfaction["sites"]}


def test_cli_settlement_month_json_csv_and_xlsx(tmp_path, database_url):
    env = {
        **os.environ,
        "WARMMEAL_DATABASE_URL": database_url,
        "WARMMEAL_VAR_DIR": str(tmp_path),
        "WARMMEAL_SECRET_KEY": TEST_SECRET,
        "WARMMEAL_FROZEN_NOW": "2026-11-23T07:00+08:00",
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "meals.cli", "settlement", *args],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )

    as_json = cli("month", "--month", "2026-10", "--format", "json")
    as_csv = cli("month", "--month", "2026-10", "--format", "csv")
    workbook = tmp_path / "oct.xlsx"
    as_xlsx = cli("month", "--month", "2026-10", "--format", "xlsx", "--output", str(workbook))
    closed = cli("close", "--month", "2026-10")
    reclosed = cli("close", "--month", "2026-10")
    bad = cli("month", "--month", "10/2026", "--format", "json")

    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert set(report) >= {"sources", "sites", "senior_paid_fen", "closed"}
    assert report["closed"] is False
    for source in report["sources"]:
        assert set(source) >= {"source", "name", "meals", "owed_fen"}
    for site in report["sites"]:
        assert {s["source"] for s in site["sources"]} == {s["source"] for s in report["sources"]}
    lines = as_csv.stdout.decode("utf-8-sig").splitlines()
    totals = [line.split(",") for line in lines if ",TOTAL," in line]
    assert {row[3]: int(row[6]) for row in totals if row[3] != "senior_paid"} == {
        s["source"]: s["owed_fen"] for s in report["sources"]
    }
    assert as_xlsx.returncode == 0
    sheets = load_workbook(workbook).sheetnames
    assert sheets == ["汇总", *[s["name"] for s in report["sources"]], "满意度回访"]
    assert closed.returncode == 0 and b"closed 2026-10" in closed.stderr
    assert reclosed.returncode != 0 and b"its figures are frozen" in reclosed.stderr
    assert bad.returncode != 0 and b"Write the month as YYYY-MM" in bad.stderr
    assert json.loads(cli("month", "--month", "2026-10").stdout)["closed"] is True
