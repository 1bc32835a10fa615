"""Every sheet as a real PDF (WeasyPrint), HTML and CSV, checked for what a cook would read."""

from __future__ import annotations

import csv
import io
import json

import click
import pytest
from litestar.testing import AsyncTestClient
from pypdf import PdfReader

from kitchen import Sheet
from meals.production import service
from meals.production.commands import plan_command
from meals.settings import Settings
from meals.words import VARIANT_LABELS_ZH, Role, Slot, Variant
from tests.conftest import NOW, TODAY
from tests.deliveries.conftest import quick
from tests.meals.helpers import Sessions, login_as
from tests.pages.helpers import submit

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PDF_MAGIC = b"%PDF"


def pdf_text(content: bytes) -> str:
    assert content.startswith(PDF_MAGIC)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def squeezed(text: str) -> str:
    """PDF text without spaces and line breaks, so CJK words split by layout still match."""
    return "".join(text.split())


@pytest.fixture
async def frozen_run(client: AsyncTestClient, db: Sessions, lunch_booked: list[int]) -> int:
    await login_as(client, db, Role.KITCHEN)
    response = await client.post(
        "/api/v1/kitchen/runs", json={"service_date": TODAY.isoformat(), "slot": "lunch"}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


@SQLITE_ONLY
async def test_every_sheet_prints_its_counts(
    client: AsyncTestClient, db: Sessions, frozen_run: int
) -> None:
    async with db() as session:
        plan = service.plan_of(await service.get_run(session, frozen_run))
    expected: dict[Sheet, list[str]] = {
        Sheet.PRODUCTION: [
            "生产单",
            f"共{plan.total_portions}份",
            *(f"{line.dish_name}" for line in plan.dishes),
            *(VARIANT_LABELS_ZH[Variant(line.variant.value)] for line in plan.dishes),
        ],
        Sheet.DESTINATIONS: [line.destination.name for line in plan.destinations],
        Sheet.INGREDIENTS: [f"{total.name}" for total in plan.ingredients],
        Sheet.WAVES: [batch.batch_id for batch in plan.batches],
        Sheet.PACKING: [van.van_id for van in plan.packing],
        Sheet.LABELS: [label.name for label in plan.labels],
        Sheet.SAMPLES: ["留样记录", *(sample.batch_id for sample in plan.samples)],
    }
    for sheet, needles in expected.items():
        response = await client.get(f"/kitchen/runs/{frozen_run}/{sheet.value}?format=pdf")
        assert response.status_code == 200, (sheet, response.text)
        assert response.headers["content-type"] == "application/pdf"
        text = squeezed(pdf_text(response.content))
        missing = [needle for needle in needles if squeezed(needle) not in text]
        assert not missing, (sheet, missing)

    production = squeezed(
        pdf_text((await client.get(f"/kitchen/runs/{frozen_run}/production?format=pdf")).content)
    )
    for line in plan.dishes:
        assert f"{line.dish_name}" in production
        assert str(line.portions) in production
    ingredients = pdf_text(
        (await client.get(f"/kitchen/runs/{frozen_run}/ingredients?format=pdf")).content
    )
    rice = next(total for total in plan.ingredients if total.ingredient_id == "rice")
    assert f"{rice.quantity.quantize(1):,}" in ingredients


@SQLITE_ONLY
async def test_html_and_csv_match_the_plan(
    client: AsyncTestClient, db: Sessions, frozen_run: int
) -> None:
    async with db() as session:
        plan = service.plan_of(await service.get_run(session, frozen_run))
    html = await client.get(f"/kitchen/runs/{frozen_run}/production")
    assert html.status_code == 200
    assert "width=device-width" in html.text and "@page" in html.text
    first = plan.dishes[0]
    assert first.variant.is_special and "★" in html.text

    download = await client.get(f"/kitchen/runs/{frozen_run}/production?format=csv")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["variant", "dish_id", "dish_name", "portions"]
    assert rows[-1][0] == "total" and int(rows[-1][3]) == plan.total_portions
    assert sum(int(row[3]) for row in rows[1:-1]) == plan.total_portions

    labels = await client.get(f"/kitchen/runs/{frozen_run}/labels?format=csv")
    label_rows = list(csv.reader(io.StringIO(labels.text.lstrip("\ufeff"))))
    assert len(label_rows) - 1 == len(plan.labels)


@SQLITE_ONLY
async def test_cli_plans_in_every_format(
    settings: Settings, db: Sessions, lunch_booked: list[int]
) -> None:
    settings = quick(settings)

    async def run(sheet_format: str, sheet: str | None = None, freeze: bool = False) -> bytes:
        return await plan_command(
            settings,
            service_date=TODAY,
            slot=Slot.LUNCH.value,
            sheet_format=sheet_format,
            sheet=sheet,
            freeze=freeze,
            now=NOW,
        )

    # there is no plan but the plan of the day: nothing to print before it is frozen
    with pytest.raises(click.ClickException, match="Nothing is frozen"):
        await run("json")
    html = (await run("html", freeze=True)).decode()
    assert all(title in html for title in ("生产单", "领料单", "装车单", "送餐标签", "留样记录"))
    assert "生产批次" in html and "<h1>Production sheet" not in html
    as_json = json.loads(await run("json"))
    assert as_json["total_portions"] > 0
    assert sum(line["portions"] for line in as_json["dishes"]) == as_json["total_portions"]
    assert (await run("csv", "samples")).startswith(b"batch_id,")
    pdf = pdf_text(await run("pdf", "production"))
    assert str(as_json["total_portions"]) in pdf


@SQLITE_ONLY
async def test_a_sheet_printed_again_comes_from_the_kept_pdf(
    client: AsyncTestClient, frozen_run: int, settings: Settings
) -> None:
    url = f"/kitchen/runs/{frozen_run}/production?format=pdf"
    first = await client.get(url)
    kept = list(settings.pdf_cache_dir.glob("*.pdf"))
    again = await client.get(url)
    other = await client.get(f"/kitchen/runs/{frozen_run}/samples?format=pdf")

    assert first.status_code == again.status_code == other.status_code == 200
    assert len(kept) == 1 and kept[0].read_bytes() == first.content
    assert again.content == first.content
    assert "留样记录" in pdf_text(other.content) and other.content != first.content
    assert len(list(settings.pdf_cache_dir.glob("*.pdf"))) == 2


@SQLITE_ONLY
async def test_freezing_on_the_kitchen_page_readies_every_sheet_to_print(
    client: AsyncTestClient, db: Sessions, lunch_booked: list[int], settings: Settings
) -> None:
    await login_as(client, db, Role.KITCHEN)
    page = f"/kitchen/?service_date={TODAY.isoformat()}&slot=lunch"

    frozen = await submit(
        client, page, "/kitchen/runs", {"service_date": TODAY.isoformat(), "slot": "lunch"}
    )

    assert frozen.status_code == 303, frozen.text[-600:]
    run_id = int(frozen.headers["location"].rsplit("/", 1)[1])
    ready = {path.read_bytes() for path in settings.pdf_cache_dir.glob("*.pdf")}
    assert len(ready) == len(Sheet)
    for sheet in Sheet:
        printed = await client.get(f"/kitchen/runs/{run_id}/{sheet.value}?format=pdf")
        assert printed.status_code == 200
        assert printed.content in ready, sheet
    assert len(list(settings.pdf_cache_dir.glob("*.pdf"))) == len(Sheet)


@SQLITE_ONLY
async def test_the_sheets_speak_the_readers_language(
    client: AsyncTestClient, db: Sessions, frozen_run: int
) -> None:
    """Chinese by default, English when the reader chose it: titles, headings and words."""
    chinese = pdf_text((await client.get(f"/kitchen/runs/{frozen_run}/packing?format=pdf")).content)
    assert "装车单" in chinese and "Packing lists" not in chinese and "departs" not in chinese
    client.cookies["lang"] = "en"
    for sheet, title in (
        (Sheet.PRODUCTION, "Production sheet"),
        (Sheet.PACKING, "Packing lists"),
        (Sheet.LABELS, "Home-delivery labels"),
        (Sheet.SAMPLES, "Sample retention log"),
    ):
        page = (await client.get(f"/kitchen/runs/{frozen_run}/{sheet.value}")).text
        assert title in page and 'lang="en"' in page, sheet
        for chinese_word in ("装车单", "份数", "出锅", "送餐上门", "未留样", "合计", "第 "):
            assert chinese_word not in page, (sheet, chinese_word)
    english = pdf_text((await client.get(f"/kitchen/runs/{frozen_run}/labels?format=pdf")).content)
    assert "Home-delivery labels" in english and "stop" in english
