"""``warding bank …``: create, add, import, export, list."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from warding.cli.common import emit_json, err_console, friendly_errors, get_app

app = typer.Typer(help="Banks of known content.", no_args_is_help=True)

LabelOpt = Annotated[list[str] | None, typer.Option("--label", help="Label key=value (repeatable), e.g. group=X, category=recruitment.")]
ProvOpt = Annotated[str, typer.Option("--provenance", help="Where this material comes from.")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Bank name.")],
    description: Annotated[str, typer.Option("--description", help="What the bank holds.")] = "",
    threshold: Annotated[list[str] | None, typer.Option("--threshold", help="Per-signal threshold TYPE=N, e.g. pdq=31 or text_semantic=0.6 (repeatable).")] = None,
    auto_action: Annotated[bool, typer.Option("--auto-action", help="Act on matches without human review (use with care).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a bank."""
    from warding.banks.service import create_bank, parse_thresholds

    w = get_app(ctx)
    with friendly_errors():
        thresholds = parse_thresholds(threshold or [])
        with w.transaction() as session:
            bank = create_bank(session, name, actor="cli", description=description,
                               thresholds=thresholds, auto_action=auto_action)
            out = {"name": bank.name, "thresholds": bank.thresholds, "auto_action": bank.auto_action}
    if as_json:
        emit_json(out)
    else:
        typer.echo(f"bank {name!r} created")


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Bank name.")],
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders of known content.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Known text.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Known URL.")] = None,
    hash_: Annotated[list[str] | None, typer.Option("--hash", help="Raw hash TYPE:VALUE, e.g. pdq:9a3f… (repeatable).")] = None,
    label: LabelOpt = None,
    provenance: ProvOpt = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    no_retro: Annotated[bool, typer.Option("--no-retro", help="Do not match stored items against the new entries (retroactive matching, docs/incidents.md).")] = False,
) -> None:
    """Add known content (files, a text, a URL or raw hashes) to a bank; then match the stored
    items of the retroactive window against the new entries (unless --no-retro)."""
    from warding.banks.records import EntryRecord, FormatError
    from warding.banks.service import (
        add_records,
        get_bank,
        parse_labels,
        record_for_text,
        record_for_url,
        records_for_files,
    )

    w = get_app(ctx)
    with friendly_errors():
        labels = parse_labels(label or [])
        records: list[EntryRecord | FormatError] = []
        if paths:
            from warding.hashing import image_text

            records += records_for_files(paths, w.signal_types, labels, provenance,
                                         w.settings.max_file_bytes, read_text=image_text(w),
                                         limits=w.derive_limits)
        if text is not None:
            records.append(record_for_text(text, w.signal_types, labels, provenance))
        if url is not None:
            records.append(record_for_url(url, w.signal_types, labels, provenance))
        for raw in hash_ or []:
            kind, sep, value = raw.partition(":")
            if not sep:
                records.append(FormatError(raw, "expected TYPE:VALUE"))
                continue
            records.append(EntryRecord(signals=[(kind.strip().lower(), value.strip())],
                                       labels=labels, provenance=provenance, ref=raw))
        if not records:
            err_console().print("[red]error:[/red] nothing to add: give PATH, --text, --url or --hash")
            raise typer.Exit(2)
        from warding.incidents.runs import feed_mark

        mark = feed_mark(w)
        with w.transaction() as session:
            bank = get_bank(session, name)
            summary = add_records(session, bank, records, w.signal_types, actor="cli", how="add")
            if text is not None:
                from warding.matching.semantic import add_bank_text

                add_bank_text(w, session, bank, text)
    retro = None if no_retro else _retro_after(w, name, mark, "add")
    if as_json:
        emit_json({**summary.as_json(), **({"retro": retro} if retro else {})})
    else:
        typer.echo(f"added {summary.entries} entries ({summary.signals} signals); "
                   f"{summary.skipped} already in the bank")
        for e in summary.errors:
            typer.echo(f"rejected {e['input']}: {e['reason']}")
        _echo_retro(retro)
    if summary.errors and not summary.entries and not summary.skipped:
        raise typer.Exit(1)


@app.command("import")
def import_(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Bank name (created if missing).")],
    file: Annotated[Path, typer.Argument(help="JSONL, CSV, 'TYPE VALUE' lines or TCAP file.")],
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl, csv, lines or tcap (default: by extension and content).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    no_retro: Annotated[bool, typer.Option("--no-retro", help="Do not match stored items against the imported entries (retroactive matching, docs/incidents.md).")] = False,
) -> None:
    """Import a hash list into a bank (see docs/formats.md); millions of lines are fine. Then
    match the stored items of the retroactive window against the new entries (unless
    --no-retro)."""
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    from warding.banks.bulk import import_path
    from warding.banks.formats import FORMATS
    from warding.errors import InvalidInput

    w = get_app(ctx)
    with friendly_errors():
        if fmt not in (None, *FORMATS):
            raise InvalidInput(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
        if not file.is_file():
            raise InvalidInput(f"{file}: no such file")
        from warding.incidents.runs import feed_mark

        mark = feed_mark(w)
        with Progress(TextColumn("importing {task.completed:,} records"), TimeElapsedColumn(),
                      console=err_console(), transient=True,
                      disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("import", total=None)
            summary = import_path(w, name, file, actor="cli", fmt=fmt,  # type: ignore[arg-type]
                                  progress=lambda n: bar.update(task, completed=n))
    retro = None if no_retro else _retro_after(w, name, mark, "import")
    if as_json:
        emit_json({**summary.as_json(), **({"retro": retro} if retro else {})})
    else:
        typer.echo(f"imported {summary.entries} entries ({summary.signals} signals); "
                   f"{summary.skipped} already present; {summary.removed} removed; "
                   f"{summary.errors_total} rejected")
        for e in summary.errors[:50]:
            typer.echo(f"rejected {e['input']}: {e['reason']}")
        _echo_retro(retro)


@app.command("export")
def export(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Bank name.")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl, csv or lines.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Export a bank's hashes and labels (never content)."""
    from warding.banks.formats import write_records
    from warding.banks.service import get_bank, iter_export
    from warding.errors import InvalidInput

    w = get_app(ctx)
    with friendly_errors():
        if fmt not in ("jsonl", "csv", "lines"):
            raise InvalidInput(f"unknown format {fmt!r}: use jsonl, csv or lines")
        with w.transaction() as session:
            bank = get_bank(session, name)
            chunks = write_records(iter_export(session, bank, w.signal_types), fmt)  # type: ignore[arg-type]
            if output is None:
                for chunk in chunks:
                    sys.stdout.write(chunk)
            else:
                tmp = output.with_name(output.name + ".tmp")
                with tmp.open("w", encoding="utf-8", newline="") as fh:
                    for chunk in chunks:
                        fh.write(chunk)
                tmp.replace(output)


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List banks with their entry counts."""
    from warding.banks.service import list_banks

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        banks = list_banks(session)
    if as_json:
        emit_json({"banks": [b.as_json() for b in banks]})
    else:
        for b in banks:
            state = "enabled" if b.enabled else "disabled"
            typer.echo(f"{b.name}\t{b.entries} entries\t{b.signals} signals\t{state}")


# -- retroactive matching (issue 20, docs/incidents.md) -------------------------------------
from warding.cli.retro import echo_retro as _echo_retro
from warding.cli.retro import retro as _retro_command
from warding.cli.retro import retro_after as _retro_after

app.command("retro")(_retro_command)
