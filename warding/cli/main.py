"""Root of the ``warding`` CLI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from warding.app import Warding
from warding.cli import action as action_cli
from warding.cli import audit as audit_cli
from warding.cli import backup as backup_cli
from warding.cli import bank as bank_cli
from warding.cli import case as case_cli
from warding.cli import exchange as exchange_cli
from warding.cli import incident as incident_cli
from warding.cli import index as index_cli
from warding.cli import legal as legal_cli
from warding.cli import legal_tdb as legal_tdb_cli
from warding.cli import model as model_cli
from warding.cli import ocr as ocr_cli
from warding.cli import stats as stats_cli
from warding.cli import user as user_cli
from warding.cli.common import emit_json, err_console, friendly_errors, get_app
from warding.config import load_settings

app = typer.Typer(
    name="warding",
    help="Detect, review, act on and measure terrorist and violent extremist content.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(bank_cli.app, name="bank")
app.add_typer(model_cli.app, name="model")
app.add_typer(user_cli.app, name="user")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(case_cli.app, name="case")
app.add_typer(stats_cli.app, name="stats")
app.add_typer(action_cli.app, name="action")
app.add_typer(index_cli.app, name="index")
app.add_typer(exchange_cli.app, name="exchange")  # issue 13
legal_tdb_cli.register(legal_cli.app)  # DSA Transparency Database: legal tdb-send
app.add_typer(legal_cli.app, name="legal")  # issue 14
app.add_typer(legal_cli.report_app, name="report")
app.command("backup")(backup_cli.backup)  # issue 22
app.add_typer(incident_cli.app, name="incident")  # issue 20
app.add_typer(ocr_cli.app, name="ocr")  # issue 21


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (or WARDING_DATABASE_URL).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data folder (or WARDING_DATA_DIR).")] = None,
) -> None:
    from pydantic import ValidationError

    try:
        settings = load_settings(database_url=db, data_dir=data_dir)
    except ValidationError as exc:  # a bad setting: one line each, never a traceback
        for problem in exc.errors():
            where = ".".join(str(part) for part in problem.get("loc", ()))
            named = f"WARDING_{where.upper()}: " if where else ""
            message = str(problem.get("msg", "")).removeprefix("Value error, ")
            err_console().print(f"[red]error in the settings:[/red] {escape(named + message)}",
                                highlight=False)
        raise typer.Exit(2) from None
    ctx.obj = Warding(settings)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database (or upgrade it to the latest schema) and the data folders."""
    w = get_app(ctx)
    with friendly_errors():
        from warding.setup import initialise

        initialise(w, actor="cli")
    err_console().print(f"database ready: {escape(w.settings.database_url)}")


@app.command("hash")
def hash_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="File to hash.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print every signal of a file (md5, sha256; pdq for images; vpdq for videos; the
    texts and images of a PDF, with the page they come from), the text read in an image
    (``ocr_text``) and in the images inside a PDF or a video (``ocr_inside``: scanned pages,
    a few frames); the text signals of what was read have origin ocr."""
    from warding.hashing import exchange_form, hash_file_content

    w = get_app(ctx)
    with friendly_errors():
        hashed = hash_file_content(w, path)
        signals = exchange_form(w, hashed.signals)
    if as_json:
        emit_json({"signals": [{"type": s.signal_type, "value": s.value, "origin": s.origin}
                               for s in signals],
                   "ocr_text": hashed.ocr_text.as_json() if hashed.ocr_text else None,
                   "ocr_inside": [i.as_json() for i in hashed.ocr_inside],
                   **({"ocr_error": hashed.ocr_error} if hashed.ocr_error else {})})
    else:
        for s in signals:
            where = "" if s.origin == str(path) else f"\t{s.origin}"
            typer.echo(f"{s.signal_type}\t{s.value}{where}")
        if hashed.ocr_text is not None:
            t = hashed.ocr_text
            typer.echo(f"ocr_text\t{t.lang or '?'}\t{t.confidence:.0f}\t{t.text}")
        for i in hashed.ocr_inside:
            if i.text is not None:
                typer.echo(f"ocr_text\t{i.text.lang or '?'}\t{i.text.confidence:.0f}\t"
                           f"{i.text.text}\t{i.where}")
        if hashed.ocr_error:
            err_console().print(f"[yellow]text not read:[/yellow] {escape(hashed.ocr_error)}")


@app.command()
def match(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="File to match against the banks.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Text to match instead of a file.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="URL to match instead of a file.")] = None,
    hashes: Annotated[Path | None, typer.Option("--hashes", help="File of 'TYPE VALUE' lines ('-': stdin): one answer per line.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Match a file, a text, a URL or a file of hashes against every enabled bank."""
    from warding.hashing import hash_file, hash_text, hash_url
    from warding.matching.service import get_engine
    from warding.matching.video import frames_line

    w = get_app(ctx)
    given = [x for x in (path, text, url, hashes) if x is not None]
    if len(given) != 1:
        err_console().print("[red]error:[/red] give exactly one of PATH, --text, --url or --hashes")
        raise typer.Exit(2)
    if hashes is not None:
        from warding.cli.match_batch import match_lines

        with friendly_errors():
            if str(hashes) == "-":
                match_lines(w, sys.stdin, sys.stdout, as_json=as_json)
            else:
                try:
                    with hashes.open("r", encoding="utf-8-sig") as fh:
                        match_lines(w, fh, sys.stdout, as_json=as_json)
                except (OSError, UnicodeDecodeError) as exc:
                    from warding.errors import InvalidInput

                    raise InvalidInput(f"{hashes}: cannot read ({exc})") from exc
        return
    with friendly_errors():
        if path is not None:
            signals = hash_file(w, path)
        elif text is not None:
            signals = hash_text(w, text)
        else:
            signals = hash_url(w, url or "")
        with w.transaction() as session:
            results = get_engine(w, session).lookup_all(signals)
            if text is not None:
                from warding.matching.semantic import match_text

                results += match_text(w, session, text)
    if as_json:
        emit_json({"matches": [r.as_json() for r in results]})
    else:
        if not results:
            typer.echo("no match")
        for r in results:
            typer.echo(f"{r.bank}\tentry {r.entry_id}\t{r.signal_type}\tdistance {r.distance}\t{r.labels}"
                       + (f"\t{frames_line(r.frames)}" if r.frames else ""))


@app.command()
def scan(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to scan.")],
    source: Annotated[str, typer.Option("--source", help="Source / platform name of these items.")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    dask: Annotated[str | None, typer.Option(
        "--dask", help="Run on a Dask cluster: a scheduler address (tcp://host:8786) or "
                       "local:N for N worker processes on this machine (docs/scaling.md).")] = None,
    partition_bytes: Annotated[int, typer.Option(
        "--partition-bytes", min=1, help="With --dask: bytes of input per partition.")] = 1 << 18,
) -> None:
    """Ingest, hash, match, classify and route items; rejected inputs are listed with reasons."""
    from warding.pipeline.scan import scan_paths

    w = get_app(ctx)
    with (
        friendly_errors(),
        Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                 console=err_console(), transient=True,
                 disable=not sys.stderr.isatty()) as progress,
    ):
        task = progress.add_task("scan", total=None)
        if dask is not None:
            from warding.cli.scan_dask import scan_with_dask

            summary = scan_with_dask(w, dask, paths, source, partition_bytes,
                                     progress=lambda n: progress.advance(task, n))
        else:
            summary = scan_paths(w, paths, source, defer_classifier=True,
                                 progress=lambda n: progress.advance(task, n))
    if as_json:
        emit_json(summary.as_json())
        return
    typer.echo(f"items accepted: {summary.items}; already known: {summary.duplicates}; "
               f"rejected: {len(summary.errors)}; matches: {summary.matches}; "
               f"cases opened: {summary.cases_opened}")
    for e in summary.errors:
        typer.echo(f"rejected {e['input']}: {e['reason']}")
    for note in summary.notes:
        typer.echo(f"note: {note}")


@app.command()
def classify(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Option("--text", help="Text to classify.")] = None,
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="JSON lines file with a 'text' field per line ('-' for stdin); one output line per input line.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score a text, or every line of a JSON lines file, with the trained classifier."""
    w = get_app(ctx)
    if (text is None) == (jsonl is None):
        err_console().print("[red]error:[/red] give exactly one of --text or --jsonl")
        raise typer.Exit(2)
    if jsonl is not None:
        from warding.cli.classify_batch import run_batch

        run_batch(w, jsonl, as_json)
        return
    assert text is not None
    with friendly_errors():
        from warding.matching.semantic import with_nearest_known

        result = w.classifier().classify([text])[0]
        with w.transaction() as session:
            result = with_nearest_known(w, session, text, result)
    out = {"label": result.label, "score": round(result.score, 6), "violating": result.violating,
           "assessed": result.assessed, "model": result.model, "explanation": result.explanation}
    if as_json:
        emit_json(out)
    else:
        typer.echo(f"{result.label}\tscore {result.score:.3f}\tviolating {result.violating}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve the review console and the JSON API."""
    import uvicorn

    from warding.web.factory import create_app

    w = get_app(ctx)
    with friendly_errors():
        from warding.setup import initialise

        initialise(w, actor="cli")
    uvicorn.run(create_app(w), host=host, port=port, log_level="info")


@app.command()
def demo(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up the demo, then exit.")] = False,
    shared_data: Annotated[Path | None, typer.Option("--shared-data", help="Public data sets folder.")] = None,
) -> None:
    """Set up a demo (bank, posts, images, an article), scan it, and serve the console."""
    from warding.demo.run import run_demo

    w = get_app(ctx)
    with friendly_errors():
        run_demo(w, shared_data=shared_data, echo=typer.echo)
    if not no_serve:
        import uvicorn

        from warding.web.factory import create_app

        typer.echo(f"console: http://{host}:{port}/")
        uvicorn.run(create_app(w), host=host, port=port, log_level="warning")


def run() -> None:
    app()
