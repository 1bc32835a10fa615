"""Sheets rendered to PDF are kept by content, newest first, within a bound."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pypdf import PdfReader

from meals import pdf
from meals.pdf import render_pdf


def _text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "read.pdf"
    path.write_bytes(content)
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_same_html_is_rendered_once_and_old_files_are_pruned(tmp_path: Path):
    cache = tmp_path / "sheets"
    first = render_pdf("<p>Van 1</p>", cache, keep=2)
    (kept,) = cache.glob("*.pdf")
    os.utime(kept, (0, 0))  # an old file: it would be pruned first
    assert render_pdf("<p>Van 1</p>", cache, keep=2) == first
    assert kept.stat().st_mtime > 0  # reading it again marked it recently used

    render_pdf("<p>Van 2</p>", cache, keep=2)
    newest = render_pdf("<p>Van 3</p>", cache, keep=2)

    files = list(cache.glob("*.pdf"))
    assert len(files) == 2
    assert "Van 3" in _text(newest, tmp_path)
    assert not kept.exists()  # Van 1 was read before Van 2 and 3 were made: the oldest
    assert not list(cache.glob("*.part"))


def test_without_a_folder_nothing_is_kept(tmp_path: Path):
    assert "Van 1" in _text(render_pdf("<p>Van 1</p>"), tmp_path)
    assert list(tmp_path.iterdir()) == [tmp_path / "read.pdf"]


def test_a_sheet_asked_for_while_it_renders_is_rendered_once(tmp_path: Path, monkeypatch):
    renders: list[str] = []
    real_render = pdf._render

    def counted(html: str) -> bytes:
        renders.append(html)
        return real_render(html)

    monkeypatch.setattr(pdf, "_render", counted)
    html = "<p>Packing list, van 1</p>" * 200
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: render_pdf(html, tmp_path, keep=5), range(3)))

    assert len(renders) == 1
    assert results[0] == results[1] == results[2]
    assert "Packing list" in _text(results[0], tmp_path)
