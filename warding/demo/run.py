"""``warding demo``: set up a bank, scan a demo stream (and the public data sets
when they are present), and create an admin with a one-time password."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from warding.accounts.service import create_user, generate_password, set_password
from warding.app import Warding
from warding.banks.records import EntryRecord, FormatError
from warding.banks.service import add_records, create_bank, record_for_text, records_for_files
from warding.classify.base import ModelMissing
from warding.db.models import Bank, User
from warding.demo import content
from warding.pipeline.scan import scan_paths
from warding.setup import initialise

DEMO_BANK = "demo-known"
SHARED_SETS = (
    ("tvec_tweets/posts.jsonl", "tvec_tweets"),
    ("news_reporting/articles.jsonl", "news_reporting"),
)


def _bank(app: Warding, folder: Path) -> None:
    known = content.make_image(7)
    with app.transaction() as session:
        if session.execute(select(Bank.id).where(Bank.name == DEMO_BANK)).first():
            return
        bank = create_bank(session, DEMO_BANK, actor="demo",
                           description="Neutral placeholders standing in for known material")
        image = folder / "known.png"
        image.write_bytes(content.png_bytes(known))
        labels = {"group": "placeholder-group", "category": "glorification"}
        records: list[EntryRecord | FormatError] = list(
            records_for_files([image], app.signal_types, labels, "demo placeholder image",
                              app.settings.max_file_bytes))
        records += [record_for_text(t, app.signal_types, labels, "demo placeholder text")
                    for t in content.KNOWN_TEXTS]
        records.append(EntryRecord(signals=[("url", "https://files.example.net/share/abc")],
                                   labels=labels, provenance="demo placeholder link"))
        add_records(session, bank, records, app.signal_types, actor="demo", how="demo")


def _translations(app: Warding, folder: Path, echo: Callable[[str], None]) -> dict[str, object]:
    """Embed the bank's texts and scan translations of them (cross-lingual matching).

    Done last: once a bank holds text embeddings every scanned text is embedded, which
    would slow the scans of the public data sets above.
    """
    import json

    from warding.banks.service import get_bank
    from warding.matching.semantic import add_bank_text

    with app.transaction() as session:
        bank = get_bank(session, DEMO_BANK)
        for text in content.KNOWN_TEXTS:
            add_bank_text(app, session, bank, text)
    posts = folder / "translations.jsonl"
    posts.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                             for i, t in content.TRANSLATED_POSTS), encoding="utf-8")
    summary = scan_paths(app, [posts], "demo-translations", actor="demo")
    echo(f"translated posts: {summary.items} new items, {summary.matches} text_semantic "
         f"matches, {summary.cases_opened} cases opened")
    return summary.as_json()


def _admin(app: Warding) -> str:
    password = generate_password()
    with app.transaction() as session:
        if session.execute(select(User.id).where(User.username == "admin")).first():
            set_password(session, "admin", password, actor="demo")
        else:
            create_user(session, "admin", "admin", password, actor="demo")
    return password


def run_demo(app: Warding, shared_data: Path | None = None,
             echo: Callable[[str], None] = print) -> dict[str, object]:
    initialise(app, actor="demo")
    shared = shared_data or app.settings.resolved_shared_data()
    have_shared = shared.is_dir()
    try:
        app.classifier()
    except ModelMissing:
        if have_shared:
            from warding.classify.service import train_model

            echo(f"training the classifier on {shared} …")
            report = train_model(app, shared, actor="demo")
            echo(f"classifier trained: {report.get('n_train')} examples")
        else:
            echo("no public data sets found: scanning without the classifier")
    folder = app.settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    _bank(app, folder)
    inputs = content.write_stream(folder / "stream", content.make_image(7))
    summary = scan_paths(app, inputs, "demo", actor="demo")
    echo(f"demo stream: {summary.items} new items, {summary.cases_opened} cases opened")
    results: dict[str, object] = {"demo": summary.as_json()}
    if have_shared:
        for rel, source in SHARED_SETS:
            path = shared / rel
            if path.exists():
                s = scan_paths(app, [path], source, actor="demo")
                echo(f"{source}: {s.items} new items, {s.cases_opened} cases opened")
                results[source] = s.as_json()
    results["translations"] = _translations(app, folder, echo)
    password = _admin(app)
    echo("admin user: admin")
    echo(f"one-time admin password: {password}")
    results["admin_password"] = password
    return results
