"""``warding index …``: the match engine's indexes and their snapshots."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from warding.cli.common import emit_json, err_console, friendly_errors, get_app

app = typer.Typer(help="Match indexes and their snapshots.", no_args_is_help=True)


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Open the match engine (snapshot or database) and describe its indexes."""
    from warding.matching.service import get_core

    w = get_app(ctx)
    with friendly_errors():
        core = get_core(w)
        out = core.describe()
    if as_json:
        emit_json(out)
        return
    typer.echo(f"opened from the {out['source']} in {out['opened_in_s']} s "
               f"(kernel: {out['kernel']}, feed position {out['watermark']})")
    for name, info in out["indexes"].items():
        typer.echo(f"{name}\t{info['entries']:,} entries")


@app.command("rebuild")
def rebuild(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Build every index from the database (ignoring snapshots) and save new snapshots."""
    from warding.matching.engine import MatchCore

    w = get_app(ctx)
    with friendly_errors():
        started = time.perf_counter()
        core = MatchCore(w.signal_types, snapshot_dir=w.settings.index_dir)
        with w.engine.begin() as conn:
            from warding.matching import feed

            core.database_id = feed.database_id(conn)
        core._build(w.engine)
        built = time.perf_counter() - started
        paths = core.save()
    out = {"entries": core.size(), "build_s": round(built, 3),
           "snapshots": [str(p) for p in paths]}
    if as_json:
        emit_json(out)
    else:
        typer.echo(f"built {out['entries']:,} entries in {out['build_s']} s; "
                   f"saved {len(paths)} snapshots in {w.settings.index_dir}")


@app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check every snapshot file (format version, length, checksums); exit 1 if one is bad."""
    from warding.matching.store import IndexFileError, read_index

    w = get_app(ctx)
    results = []
    folder = w.settings.index_dir
    for path in sorted(folder.glob("*.widx")) if folder.is_dir() else []:
        try:
            meta, _arrays = read_index(path)
            results.append({"file": str(path), "ok": True, "entries": meta.get("entries"),
                            "watermark": meta.get("watermark")})
        except IndexFileError as exc:
            results.append({"file": str(path), "ok": False, "problem": str(exc)})
    ok = all(r["ok"] for r in results)
    if as_json:
        emit_json({"ok": ok, "files": results})
    else:
        if not results:
            typer.echo(f"no snapshots in {folder}")
        for r in results:
            typer.echo(f"{r['file']}\t" + ("ok" if r["ok"] else f"BAD: {r['problem']}"))
    if not ok:
        err_console().print("[red]error:[/red] a snapshot is damaged; it will be rebuilt from "
                            "the database when the engine next opens")
        raise typer.Exit(1)
