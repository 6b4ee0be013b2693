"""Text in images (issue 21): read offline with Tesseract, matched against bank texts (and
their translations) with origin ``ocr``, scored by the classifier, shown in the case view.
Neutral sentences and generated images only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from tests.cli_helpers import CLI
from tests.conftest import bank_of_texts
from tests.ocr_images import (
    cer,
    degrade,
    lighten,
    need_tesseract,
    photo,
    png,
    render,
)
from tests.test_intake_api import CLUB, _with_model, synthetic_models  # noqa: F401 (fixture)
from tests.test_web import PASSWORD, api_key, login
from warding.accounts.service import create_user
from warding.app import Warding
from warding.db.models import Case
from warding.db.models_ocr import ImageTextRow
from warding.ocr.regions import likely_text
from warding.web.factory import create_app

KNOWN = "The garden party will start at noon near the old stone bridge."
FRENCH = "Le chat dort sur le canapé rouge depuis ce matin."
ENGLISH = "The cat has been sleeping on the red sofa since this morning."

SENTENCES = {
    "en": KNOWN,
    "fr": "Nous irons au marché samedi pour acheter des légumes frais.",
    "tr": "Yarın sabah erkenden kütüphaneye gidip kitap okuyacağım.",
    "ru": "Сегодня хорошая погода для долгой прогулки в парке.",
    "ar": "ذهبت إلى السوق لشراء الخبز والحليب.",
}


@pytest.fixture(autouse=True)
def _tesseract() -> None:
    need_tesseract()


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_reads_each_script_in_logical_order(wapp: Warding, lang: str) -> None:
    text = SENTENCES[lang]
    reader = wapp.ocr
    assert reader is not None
    got = reader.read_bytes(degrade(render(text, size=30), quality=80, noise=4))
    assert got is not None
    assert cer(got.text, text) <= 0.1, got.text  # right-to-left text comes in reading order
    assert got.lang == lang
    assert got.script == {"ar": "Arabic", "ru": "Cyrillic"}.get(lang, "Latin")
    assert 0 < got.confidence <= 100


def test_images_without_text_are_not_read(wapp: Warding) -> None:
    flat = Image.new("RGB", (400, 300), (120, 140, 160))
    gradient = Image.linear_gradient("L").resize((400, 300))
    assert not likely_text(flat) and not likely_text(gradient)
    reader = wapp.ocr
    assert reader is not None
    for img in (flat, gradient, photo(1)):
        assert reader.read_bytes(png(img)) is None
    assert likely_text(render(KNOWN, size=18, background=lighten(photo(2))))


def test_hash_gives_the_image_text_with_origin_ocr(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    image = tmp_path / "poster.jpg"
    image.write_bytes(degrade(render(KNOWN, size=26, background=lighten(photo(0)))))
    out = cli.json("hash", str(image), "--json")
    assert out["ocr_text"]["lang"] == "en" and cer(out["ocr_text"]["text"], KNOWN) <= 0.1
    origins = {s["type"]: s["origin"] for s in out["signals"]}
    assert origins["pdq"] == str(image) and origins["text"] == "ocr"
    assert origins["text_near"] == "ocr"


def test_hash_reads_the_scanned_pages_of_a_pdf(tmp_path: Path) -> None:
    """``warding hash`` reads the images inside a file as a scan does: a PDF page that is only
    a scan gives its text (``ocr_inside``, named by page) and text signals of origin ocr."""
    from tests.test_pdf import image_pdf

    cli = CLI(tmp_path)
    cli.run("init")
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(image_pdf(png(render(KNOWN, size=30, width=700))))
    out = cli.json("hash", str(pdf), "--json")
    assert out["ocr_text"] is None
    (inside,) = out["ocr_inside"]
    assert inside["where"].startswith(f"{pdf}:p1") and cer(inside["text"], KNOWN) <= 0.1
    assert ("text", "ocr") in {(s["type"], s["origin"]) for s in out["signals"]}
    plain = cli.run("hash", str(pdf))
    assert f"\t{inside['where']}" in plain.stdout


def test_limits_and_off_switch_keep_the_hashes(app_factory: Callable[..., Warding],
                                               tmp_path: Path) -> None:
    from warding.hashing import hash_content

    data = png(render(KNOWN))
    small = hash_content(app_factory(ocr_max_pixels=1000), data, "big.png")
    assert small.ocr_text is None and small.ocr_error is not None
    assert "WARDING_OCR_MAX_PIXELS" in small.ocr_error and "pixels" in small.ocr_error
    assert {s.signal_type for s in small.signals} >= {"md5", "pdq"}
    slow = hash_content(app_factory(ocr_timeout_seconds=0.000001), data, "slow.png")
    assert slow.ocr_text is None and "WARDING_OCR_TIMEOUT_SECONDS" in (slow.ocr_error or "")
    off = hash_content(app_factory(ocr=False), data, "off.png")
    assert off.ocr_text is None and off.ocr_error is None
    assert "text" not in {s.signal_type for s in off.signals}


def test_missing_language_data_is_said_clearly_and_hashing_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    image = tmp_path / "x.png"
    image.write_bytes(png(render(KNOWN)))
    with monkeypatch.context() as env:
        env.setenv("WARDING_OCR_TESSDATA", str(tmp_path / "nothing-here"))
        status = cli.run("ocr", "status", code=1)
        assert "tesseract-ocr-script-latn" in status.stderr
        out = cli.json("hash", str(image), "--json")
    assert out["ocr_text"] is None and "pdq" in {s["type"] for s in out["signals"]}
    assert "read" in cli.run("ocr", "status").stdout


def _case_of(w: Warding, item_external_id: str) -> Case:
    from warding.db.models import ContentItem

    with w.transaction() as session:
        item = session.execute(select(ContentItem).where(
            ContentItem.input_ref.like(f"%{item_external_id}%"))).scalar_one()
        case = session.execute(select(Case).where(Case.item_id == item.id)).scalar_one()
        session.expunge(case)
        return case


def _bank_reviewer_and_uploads(w: Warding, tmp_path: Path, texts: list[str]) -> Path:
    """A bank ``statements`` of ``texts``, a reviewer ``rev`` and an empty uploads folder."""
    bank_of_texts(w, "statements", texts)
    with w.transaction() as session:
        create_user(session, "rev", "reviewer", PASSWORD, actor="test")
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


def test_an_image_holding_a_known_statement_opens_a_case_with_the_text_shown(
        tmp_path: Path, app_factory: Callable[..., Warding]) -> None:
    """The issue's "done when": a bank text rendered into an image (a poster over a photo,
    JPEG, a little noise) and its translation in another image open cases through ``text``
    and ``text_semantic`` matching, and the case view shows the text read, marked."""
    from warding.pipeline.scan import scan_paths

    w = app_factory(semantic_matching=True)
    folder = _bank_reviewer_and_uploads(w, tmp_path, [KNOWN, ENGLISH])
    (folder / "poster.jpg").write_bytes(
        degrade(render(KNOWN, size=26, background=lighten(photo(0)), width=420)))
    (folder / "card.png").write_bytes(png(render(FRENCH, size=24)))
    (folder / "landscape.png").write_bytes(png(photo(3)))
    summary = scan_paths(w, [folder], "uploads")
    assert summary.items == 3 and summary.cases_opened == 2

    poster = _case_of(w, "poster.jpg")
    kinds = {(r["signal_type"], r.get("origin")) for r in poster.reasons}
    assert ("text", "ocr") in kinds or ("text_near", "ocr") in kinds
    card = _case_of(w, "card.png")
    assert [(r["signal_type"], r.get("origin")) for r in card.reasons] == [
        ("text_semantic", "ocr")]
    with w.transaction() as session:
        rows = session.execute(select(ImageTextRow)).scalars().all()
        assert {r.lang for r in rows} == {"en", "fr"} and all(r.model for r in rows)

    with TestClient(create_app(w)) as client:
        login(client, "rev")
        page = client.get(f"/cases/{poster.id}").text
        shown = page.split('id="image-text-1"')[1]
        assert "Text read in the image" in shown and "<mark" in shown and "garden" in shown
        page = client.get(f"/cases/{card.id}").text
        assert "canapé" in page and "text_semantic" in page


def test_intake_stores_image_text_and_classifier_scores_it(
        app_factory: Callable[..., Warding], synthetic_models: Path) -> None:  # noqa: F811
    import base64

    w = app_factory(semantic_matching=False)
    _with_model(w, synthetic_models)
    with w.transaction() as session:
        create_user(session, "api", "api", PASSWORD, actor="test")
    image = png(render(CLUB, size=24, width=520))
    with TestClient(create_app(w)) as client:
        key = api_key(w, "api")
        body = {"source": "s", "items": [{"id": "i1", "text": "a photo from today",
                                          "media": [{"filename": "sign.png",
                                                     "data_b64": base64.b64encode(image)
                                                     .decode()}]}]}
        out = client.post("/api/items", headers=key, json=body).json()["items"][0]
        assert out["status"] == "accepted" and out["case_id"]
        hashed = client.post("/api/hash", headers=key,
                             files={"file": ("sign.png", image, "image/png")}).json()
    assert hashed["ocr_text"]["script"] == "Latin"
    assert any(s["origin"] == "ocr" for s in hashed["signals"])
    with w.transaction() as session:
        row = session.execute(select(ImageTextRow)).scalar_one()
        assert row.score is not None and row.violating
        case = session.get(Case, out["case_id"])
        assert case is not None
        reasons = [r for r in case.reasons if r["kind"] == "classifier"]
    assert reasons and reasons[0]["origin"] == "ocr" and reasons[0]["image"] == "sign.png"


def test_bank_add_of_an_image_keeps_its_text_signals(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    image = tmp_path / "known.png"
    image.write_bytes(png(render(KNOWN)))
    cli.run("bank", "create", "posters")
    cli.run("bank", "add", "posters", str(image))
    out = cli.json("match", "--text", KNOWN, "--json")
    assert {m["signal_type"] for m in out["matches"]} >= {"text"}
    assert json.dumps(out).count("posters") >= 1


def test_case_detail_marks_shared_words_only(wapp: Warding) -> None:
    from warding.ocr.view import segments

    marked = [s["text"] for s in segments("Meet at the old bridge", {"bridge", "old"},
                                          whole=False) if s["mark"]]
    assert marked == ["old", "bridge"]
    assert segments("abc", set(), whole=True) == [{"text": "abc", "mark": True}]




def test_scanned_pdf_pages_and_video_frames_are_read(tmp_path: Path,
                                                     app_factory: Callable[..., Warding]) -> None:
    """A PDF page that is only a scan (an image of text) and a video showing a caption give
    their text (origin ``ocr``), which matches a bank text; the case view shows where it was
    read."""
    from tests.test_pdf import image_pdf
    from tests.videogen import encode
    from warding.pipeline.scan import scan_paths

    caption = "Fresh bread and warm soup are served every Sunday at the village hall."
    w = app_factory(semantic_matching=False)
    folder = _bank_reviewer_and_uploads(w, tmp_path, [KNOWN, caption])
    (folder / "scan.pdf").write_bytes(image_pdf(png(render(KNOWN, size=30, width=700))))
    card = render(caption, size=22, width=600).resize((640, 160))
    frames = [card if 10 <= k < 40 else Image.new("RGB", (640, 160), (30, 60, 90))
              for k in range(50)]
    (folder / "clip.mp4").write_bytes(encode(frames, fps=10))
    summary = scan_paths(w, [folder], "uploads")
    assert summary.items == 2 and summary.cases_opened == 2
    with w.transaction() as session:
        rows = {r.name: r for r in session.execute(select(ImageTextRow)).scalars()}
    pdf_row = next(r for n, r in rows.items() if n.startswith("scan.pdf:p1"))
    assert pdf_row.part == 1 and cer(pdf_row.text, KNOWN) <= 0.1
    video_rows = [r for n, r in rows.items() if n.startswith("clip.mp4@")]
    assert video_rows and any(cer(r.text, caption) <= 0.15 for r in video_rows)
    assert len({r.text for r in video_rows}) == len(video_rows)  # one text kept once
    pdf_case = _case_of(w, "scan.pdf")
    assert ("text", "ocr") in {(r["signal_type"], r.get("origin")) for r in pdf_case.reasons}
    with TestClient(create_app(w)) as client:
        login(client, "rev")
        page = client.get(f"/cases/{pdf_case.id}").text
    assert "Text read in scan.pdf:p1" in page and "garden" in page
