"""A queue of mixed cases built through the real pipeline, for console and browser tests.

Only neutral placeholder text and generated shapes (warding.demo.content). The bank
"known" holds a generated image, a placeholder text and a link; the scanned posts
give: three exact copies of the known image from three accounts (one bulk
decision), a re-compressed copy (a near PDQ match), a near copy of the known text
(in English, with the known link) and a French post with the link. One more case
is opened by a classifier score whose top features occur in its text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from warding.accounts.service import create_user
from warding.app import Warding
from warding.banks.records import EntryRecord, FormatError
from warding.banks.service import add_records, create_bank, record_for_text, records_for_files
from warding.cases.routing import open_case
from warding.db.models import Case, Classification, ContentItem
from warding.demo import content
from warding.pipeline.scan import scan_paths

PASSWORD = "a long test password"
KNOWN_URL = "https://files.example.net/share/abc"
CLASSIFIER_TEXT = ("Placeholder announcement: the weekly chess evening moves to the "
                   "library annex, bring your own board and clock.")
FEATURES = [["chess", 0.41], [" annex", 0.22], ["weekl", 0.13]]


@dataclass
class Scenario:
    cases: dict[str, int] = field(default_factory=dict)  # external id -> case id

    @property
    def image_copies(self) -> list[int]:
        return [self.cases[k] for k in ("img-1", "img-2", "img-3")]


def users(w: Warding) -> None:
    with w.transaction() as session:
        for name, role in (("admin", "admin"), ("rev1", "reviewer"), ("rev2", "reviewer"),
                           ("analyst", "analyst"), ("platform", "api")):
            create_user(session, name, role, PASSWORD, actor="test")


def build(w: Warding, folder: Path) -> Scenario:
    folder.mkdir(parents=True, exist_ok=True)
    known = content.make_image(7)
    (folder / "known.png").write_bytes(content.png_bytes(known))
    with w.transaction() as session:
        bank = create_bank(session, "known", actor="test",
                           description="Neutral placeholders standing in for known material")
        labels = {"group": "placeholder-group", "category": "glorification"}
        records: list[EntryRecord | FormatError] = list(records_for_files(
            [folder / "known.png"], w.signal_types, labels, "test image", w.settings.max_file_bytes))
        records.append(record_for_text(content.KNOWN_TEXTS[0], w.signal_types,
                                       {"category": "recruitment"}, "test text"))
        records.append(EntryRecord(signals=[("url", KNOWN_URL)], labels={"category": "instruction"},
                                   provenance="test link"))
        add_records(session, bank, records, w.signal_types, actor="test", how="test")
    media = folder / "media"
    media.mkdir(exist_ok=True)
    (media / "copy.png").write_bytes(content.png_bytes(known))
    (media / "altered.jpg").write_bytes(content.altered_copy(known))
    posts = [
        {"id": f"img-{i}", "account": f"carrier-{i}", "time": f"2026-11-2{i}T08:00:00Z",
         "text": f"look at this picture ({i})", "media": ["media/copy.png"], "lang": "en"}
        for i in (1, 2, 3)
    ]
    posts += [
        {"id": "altered", "account": "carrier-4", "time": "2026-11-21T09:00:00Z",
         "text": "same picture, smaller", "media": ["media/altered.jpg"], "lang": "en"},
        {"id": "text-copy", "account": "carrier-5", "time": "2026-11-22T10:00:00Z", "lang": "en",
         "text": content.KNOWN_TEXTS[0].replace("Saturday", "Sunday")
         + f" More at {KNOWN_URL}?utm_source=x"},
        {"id": "link-fr", "account": "carrier-6", "time": "2026-11-22T11:00:00Z", "lang": "fr",
         "text": f"Le club de lecture se réunit jeudi soir, voir {KNOWN_URL} pour le programme."},
    ]
    posts += [{"id": f"ordinary-{i}", "account": "carrier-7", "text": text, "lang": "en"}
              for i, text in enumerate(content.ORDINARY_POSTS[:3])]
    posts_file = folder / "posts.jsonl"
    posts_file.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    scan_paths(w, [posts_file], "forum", actor="test")
    with w.transaction() as session:
        item = ContentItem(source="forum", external_id="classified", kind="post",
                           account="carrier-8", text=CLASSIFIER_TEXT, lang="en",
                           url="https://forum.example.org/t/classified", input_ref="test")
        session.add(item)
        session.flush()
        explanation = {"top_features": FEATURES}
        session.add(Classification(item_id=item.id, model="baseline-test",
                                   label="terrorist_content", score=0.93, violating=True,
                                   explanation=explanation))
        open_case(session, item, [{"kind": "classifier", "model": "baseline-test",
                                   "label": "terrorist_content", "score": 0.93,
                                   "threshold": 0.8, "explanation": explanation}], "test")
    out = Scenario()
    with w.transaction() as session:
        for case, item in session.execute(
                select(Case, ContentItem).join(ContentItem, Case.item_id == ContentItem.id)):
            out.cases[item.external_id] = case.id
    return out
