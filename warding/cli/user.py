"""``warding user …``: accounts for the console and the API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from warding.cli.common import emit_json, friendly_errors, get_app

app = typer.Typer(help="Users and API keys.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Username.")],
    role: Annotated[str, typer.Option("--role", help="admin, reviewer, analyst or api.")] = "reviewer",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
) -> None:
    """Create a user. Without --password-stdin a password is generated and printed once."""
    from warding.accounts.service import create_user, generate_password

    w = get_app(ctx)
    generated = not password_stdin
    password = generate_password() if generated else sys.stdin.readline().rstrip("\r\n")
    with friendly_errors(), w.transaction() as session:
        create_user(session, name, role, password, actor="cli")
    typer.echo(f"user {name!r} created with role {role}")
    if generated:
        typer.echo(f"password (shown once): {password}")


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List users and their roles."""
    from warding.accounts.service import list_users

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        users = list_users(session)
    if as_json:
        emit_json({"users": [{"username": u.username, "role": u.role, "active": u.active} for u in users]})
    else:
        for u in users:
            typer.echo(f"{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}")


@app.command("api-key")
def api_key(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Username the key acts as.")],
    scope: Annotated[list[str] | None, typer.Option("--scope", help="Limit the key to this permission (repeatable), e.g. match, view_statements.")] = None,
) -> None:
    """Create an API key (shown once; only its hash is stored)."""
    from warding.accounts.service import create_api_key

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        key = create_api_key(session, name, actor="cli", scopes=scope or None)
    typer.echo(key)


@app.command("set-role")
def set_role_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Username.")],
    role: Annotated[str, typer.Option("--role", help="admin, reviewer, analyst or api.")],
) -> None:
    """Change a user's role (audited as a setting change)."""
    from warding.accounts.service import set_role

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        set_role(session, name, role, actor="cli")
    typer.echo(f"user {name!r} now has role {role}")


@app.command("set-password")
def set_password_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Username.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the new password from standard input.")] = False,
) -> None:
    """Set a user's password (e.g. a lost admin password). Without --password-stdin a new
    password is generated and printed once. The user's console sessions end; audited as
    user.password_changed."""
    from warding.accounts.service import generate_password, set_password

    w = get_app(ctx)
    generated = not password_stdin
    password = generate_password() if generated else sys.stdin.readline().rstrip("\r\n")
    with friendly_errors(), w.transaction() as session:
        set_password(session, name, password, actor="cli")
    typer.echo(f"password of {name!r} changed")
    if generated:
        typer.echo(f"password (shown once): {password}")


@app.command("disable")
def disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Username.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead.")] = False,
) -> None:
    """Disable a user (their sessions and API keys stop working), or enable them again."""
    from warding.accounts.service import set_active

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        set_active(session, name, enable, actor="cli")
    typer.echo(f"user {name!r} {'enabled' if enable else 'disabled'}")
