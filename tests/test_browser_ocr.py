"""The text read in an image, as a reviewer sees it in a real browser: under the blurred
poster, in its language, with the words that matched the bank text marked; the image stays
blurred while the text is read. ``make screenshots`` keeps the picture used in docs/ocr.md.
Neutral sentences and generated images only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests import review_scenario as rs
from tests.browser import serve
from tests.conftest import bank_of_texts
from tests.ocr_images import degrade, lighten, need_tesseract, photo, render
from tests.test_browser import Shots, browser, login  # noqa: F401  (fixture)
from warding.accounts.service import create_user
from warding.app import Warding
from warding.db.models import Case

pytestmark = pytest.mark.browser

KNOWN = "The garden party will start at noon near the old stone bridge."


@pytest.fixture
def poster_case(tmp_path: Path, app_factory: Callable[..., Warding]
                ) -> Iterator[tuple[str, int]]:
    from warding.pipeline.scan import scan_paths

    need_tesseract()
    w = app_factory(semantic_matching=True)
    bank_of_texts(w, "statements", [KNOWN])
    with w.transaction() as session:
        create_user(session, "reviewer", "reviewer", rs.PASSWORD, actor="test")
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "poster.jpg").write_bytes(
        degrade(render(KNOWN, size=26, background=lighten(photo(0)), width=420)))
    scan_paths(w, [folder], "uploads")
    with w.transaction() as session:
        case_id = session.execute(select(Case.id)).scalar_one()
    with serve(w) as base:
        yield base, case_id


def test_reviewer_reads_the_text_of_a_blurred_poster(browser: Any,  # noqa: F811
                                                      poster_case: Any) -> None:
    base, case_id = poster_case
    page = login(browser, base, "reviewer")
    page.goto(f"/cases/{case_id}")
    text = page.locator("#image-text-1")
    text.wait_for()
    assert "Text read in the image" in text.inner_text()
    marked = page.locator("#image-text-1 mark").all_inner_texts()
    assert marked and "garden" in " ".join(marked)
    assert page.locator("#image-text-1 blockquote").get_attribute("lang") == "en"
    image = page.locator("#media-1")
    assert "blurred" in (image.get_attribute("class") or "")  # reading the text reveals nothing
    Shots().take(page, "case-ocr")
