"""``warding audit …``: check the tamper-evident audit log and keep checkpoints of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from warding.cli.common import emit_json, err_console, friendly_errors, get_app

app = typer.Typer(help="The audit log.", no_args_is_help=True)


@app.command("verify")
def verify(
    ctx: typer.Context,
    checkpoints: Annotated[list[Path] | None, typer.Option(
        "--checkpoint", help="A checkpoint file (warding audit checkpoint): also fail when "
                             "the log is shorter than it or diverges from it. Repeatable.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recompute the hash chain; exit 1 and name the first bad event if anything was altered
    (or, with --checkpoint, if events after a checkpoint's head were deleted)."""
    from warding.audit.checkpoint import compare, read
    from warding.audit.log import verify as verify_chain

    w = get_app(ctx)
    with friendly_errors():
        wanted = [(path, read(path)) for path in checkpoints or []]
        with w.transaction() as session:
            result = verify_chain(session)
            problems = [(str(path), compare(session, cp)) for path, cp in wanted]
    bad = [(path, problem) for path, problem in problems if problem]
    ok = result.ok and not bad
    if as_json:
        emit_json({"ok": ok, "events": result.events, "first_bad_event": result.first_bad_id,
                   "problem": result.problem,
                   "checkpoints": [{"file": path, "ok": not problem, "problem": problem}
                                   for path, problem in problems]})
    elif not result.ok:
        err_console().print(f"[red]audit log altered:[/red] event {result.first_bad_id}: "
                            f"{escape(result.problem)}", highlight=False)
    for path, problem in bad:
        if not as_json:
            err_console().print(f"[red]audit log altered:[/red] {escape(path)}: "
                                f"{escape(problem)}", highlight=False)
    if ok and not as_json:
        extra = f"; matches {len(problems)} checkpoint(s)" if problems else ""
        typer.echo(f"audit log intact: {result.events} events{extra}")
    if not ok:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="File to write the checkpoint to "
                                                    "(keep it outside the database's "
                                                    "machine).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write the head of the audit log (event count, last id, head hash, time) to a file,
    and POST it to WARDING_AUDIT_CHECKPOINT_URL when set."""
    from warding.audit.checkpoint import post, take, write

    w = get_app(ctx)
    with friendly_errors():
        with w.transaction() as session:
            head = take(session)
        write(head, out)
        url = w.settings.audit_checkpoint_url
        if url:
            post(url, w.settings.webhook_secret, head)
    if as_json:
        emit_json({**head.as_json(), "file": str(out), "posted": bool(url)})
    else:
        typer.echo(f"checkpoint written to {out}: {head.events} events, last event "
                   f"{head.last_id}, head {head.head_hash[:16]}…"
                   + (" (and posted to WARDING_AUDIT_CHECKPOINT_URL)" if url else ""))
