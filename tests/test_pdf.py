"""PDFs (issue 15): page texts to the text signals and the classifier, embedded images to PDQ,
origins naming the page, and limits against hostile files. PDFs are generated here."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.cli_helpers import CLI
from tests.test_signal_contract import shapes_png
from warding.documents.pdf import PdfError, read_pdf
from warding.signals.derive import DeriveLimits

TEXT = ("Neutral placeholder text about gardens, trains and the weather for a test document, "
        "with enough words to be fingerprinted.")


def text_pdf(pages: list[str], compress: bool = True) -> bytes:
    """A minimal PDF with one line of Helvetica text per page."""
    objs: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    font = 3 + 2 * n
    for i, text in enumerate(pages):
        stream = f"BT /F1 10 Tf 20 700 Td ({text}) Tj ET".encode()
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents "
                    f"{4 + 2 * i} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        if compress:
            stream = zlib.compress(stream)
            objs.append(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
                        + stream + b"\nendstream")
        else:
            objs.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream
                        + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for k, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(f"{k} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    return out.getvalue()


def image_pdf(png: bytes) -> bytes:
    """A one-page PDF that embeds the image (Pillow's PDF writer)."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(png)) as img:
        img.convert("RGB").save(out, format="PDF")
    return out.getvalue()


def test_pages_give_texts_and_images_with_origins() -> None:
    found = read_pdf(text_pdf([TEXT, "Second page placeholder words"]), "media:a.pdf",
                     DeriveLimits())
    assert [(d.kind, d.origin) for d in found] == [("text", "media:a.pdf:p1"),
                                                   ("text", "media:a.pdf:p2")]
    assert "gardens" in found[0].text
    images = read_pdf(image_pdf(shapes_png(5)), "media:b.pdf", DeriveLimits())
    assert [(d.kind, d.origin) for d in images] == [("image", "media:b.pdf:p1:img1")]


def test_limits_and_broken_files() -> None:
    with pytest.raises(PdfError, match="pdf_max_pages"):
        read_pdf(text_pdf(["a", "b", "c"]), "x", DeriveLimits(pdf_max_pages=2))
    with pytest.raises(PdfError, match="pdf_max_bytes"):
        read_pdf(image_pdf(shapes_png(5)), "x", DeriveLimits(pdf_max_bytes=1024))
    with pytest.raises(PdfError, match="not a readable PDF"):
        read_pdf(b"%PDF-1.4\n placeholder, not a PDF", "x", DeriveLimits())


def test_pdf_matches_known_image_and_text(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    image = tmp_path / "known.png"
    image.write_bytes(shapes_png(5))
    cli.run("bank", "create", "known")
    cli.run("bank", "add", "known", str(image))
    cli.run("bank", "add", "known", "--text", TEXT)
    with_image = tmp_path / "magazine.pdf"
    with_image.write_bytes(image_pdf(shapes_png(5)))
    with_text = tmp_path / "manual.pdf"
    with_text.write_bytes(text_pdf(["Cover page", TEXT]))
    assert {m["signal_type"] for m in cli.json("match", "--json", str(with_image))["matches"]} \
        >= {"pdq"}
    assert "text" in {m["signal_type"] for m in cli.json("match", "--json",
                                                           str(with_text))["matches"]}
    hashed = cli.json("hash", "--json", str(with_text))["signals"]
    assert {s["origin"] for s in hashed if s["type"] == "text"} == {f"{with_text}:p1",
                                                                     f"{with_text}:p2"}
    pages = tmp_path / "pages.pdf"
    pages.write_bytes(text_pdf(["p"] * 3))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "manual.pdf").write_bytes(with_text.read_bytes())
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n placeholder, not a PDF")
    summary = cli.json("scan", "--json", str(folder))
    assert summary["rejected"] == 1 and "not a readable PDF" in str(summary)


def test_scanned_pdf_text_reaches_the_item(tmp_path: Path) -> None:
    from sqlalchemy import select

    from tests.conftest import make_app
    from warding.db.models import ContentItem, Signal

    w = make_app(tmp_path, semantic_matching=False)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "manual.pdf").write_bytes(text_pdf(["Cover page", TEXT]))
    from warding.pipeline.scan import scan_paths

    scan_paths(w, [folder], "local")
    with w.transaction() as session:
        item = session.execute(select(ContentItem)).scalar_one()
        assert "gardens" in (item.text or "")
        origins = set(session.execute(select(Signal.origin).where(
            Signal.signal_type == "text")).scalars())
        assert origins == {"text", "media:manual.pdf:p1", "media:manual.pdf:p2"}  # and whole
