"""`darbuka admin import-telegram`, `export-chat` and `verify-export`: chats coming in from a
Telegram export, and a chat going out as signed evidence."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from darbuka.cli_common import DataDir, load_settings, run_admin

if TYPE_CHECKING:
    from darbuka.container import Runtime
    from darbuka.safety.evidence import Checked, Written
    from darbuka.services.imports import ImportReport

__all__ = ["register"]


def register(admin: typer.Typer) -> None:
    admin.command("import-telegram")(import_telegram)
    admin.command("export-chat")(export_chat)
    admin.command("verify-export")(verify_export)


def import_telegram(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                           help="The export's folder (with result.json).")],
    owner: Annotated[str, typer.Option(help="The new chat's owner: +E.164 of an account.")],
    as_channel: Annotated[bool | None, typer.Option(
        "--as-channel/--as-group", help="Make a channel, or a group.")] = None,
    author: Annotated[list[str] | None, typer.Option(
        help="A Telegram author who is a person here: user42=+E164 or user42=@username "
             "(again for each).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Import a Telegram Desktop export of one chat ("machine-readable JSON") with its
    history: media through the upload pipeline and the hash banks (refused media is
    reported, not imported). Safe to run again: what is in is not added twice."""
    from rich.console import Console
    from rich.progress import Progress

    from darbuka.services.telegram import read_export

    if as_channel is None:
        _refuse("say --as-channel or --as-group")
    authors = dict(_pair(a) for a in author or [])
    settings = load_settings(data_dir=data_dir)
    try:
        export = read_export(folder)
    except Exception as err:  # BadRequest: printed as one line
        _refuse(str(getattr(err, "message", err)))

    async def run(rt: Runtime) -> ImportReport:
        await rt.services.banks.refresh()  # imported media is screened like any upload
        console = Console(stderr=True)
        with Progress(console=console, transient=True,
                      disable=not console.is_terminal) as progress:
            task = progress.add_task(f"importing {export.name}", total=len(export.messages))
            try:
                return await rt.services.imports.do_import_telegram(
                    export, kind="channel" if as_channel else "group", owner_phone=owner,
                    authors=authors, on_progress=lambda n: progress.advance(task, n))
            finally:
                rt.services.media.stop()  # the decoders' child processes

    report = run_admin(settings, run)
    state = "new" if report.created else "existing"
    typer.echo(f"chat {report.chat_id} ({state}): {report.imported} messages imported, "
               f"{report.already} already imported, {len(report.refused)} refused, "
               f"{len(report.skipped)} skipped")
    for item, why in report.refused:
        typer.echo(f"refused: message {item}: {why}")
    for item, why in report.skipped:
        typer.echo(f"skipped: message {item}: {why}")


def _pair(raw: str) -> tuple[str, str]:
    who, sep, person = raw.partition("=")
    if not sep or not who or not person:
        _refuse(f"--author {raw!r}: give user42=+E164 or user42=@username")
    return who.strip(), person.strip()


def export_chat(chat_id: Annotated[int, typer.Argument(help="The chat's id.")],
                out: Annotated[Path, typer.Argument(dir_okay=False,
                                                    help="The zip to write.")],
                data_dir: DataDir = None) -> None:
    """Write one chat (members, every message, its media) as evidence: a zip whose manifest
    lists the SHA-256 of every file and the audit chain's head, signed with the server
    secret. The export itself is recorded in the audit chain."""
    from darbuka.media.blobs import BlobStore
    from darbuka.safety.evidence import export_chat as write

    if out.exists():
        _refuse(f"{out} exists; give a new file")
    if not out.parent.is_dir():
        _refuse(f"{out.parent}: no such folder")
    written: Written = run_admin(load_settings(data_dir=data_dir), lambda rt: write(
        rt.db, rt.stores, rt.writer, BlobStore(rt.objects), rt.secret, chat_id, out,
        now_ms=rt.clock.now_ms()))
    typer.echo(f"chat {chat_id}: {written.messages} messages, {written.files} files "
               f"written to {out}; audit record {written.audit_id}")


def verify_export(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                       help="A zip of export-chat.")],
                  data_dir: DataDir = None) -> None:
    """Check an evidence zip: every file against the manifest, the manifest against its
    signature, and its audit head against this server's audit chain. Exit 1 if not."""
    from darbuka.safety.evidence import verify_export as check

    checked: Checked = run_admin(load_settings(data_dir=data_dir),
                                 lambda rt: check(rt.db, rt.stores, rt.secret, path))
    if checked.ok:
        typer.echo(f"export verified: {checked.files} files, signed, audit head "
                   f"{checked.audit_head} found")
        return
    typer.echo(f"export NOT verified: {checked.why}")
    raise typer.Exit(1)


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.stderr.flush()
    raise typer.Exit(2)
