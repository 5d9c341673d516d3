"""`darbuka admin safety …`: hash banks from the command line (the same service as the API)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from darbuka.cli_common import DataDir, load_settings, run_admin

if TYPE_CHECKING:
    from darbuka.adapters import Services

__all__ = ["safety"]

T = TypeVar("T")
safety = typer.Typer(help="Trust and safety: hash banks.", no_args_is_help=True)
BankOpt = Annotated[str, typer.Option("--bank", help="Bank name.")]
FormatOpt = Annotated[str | None, typer.Option("--format", help="csv or json [from the name].")]


def _run(data_dir: Path | None, body: Callable[[Services], Awaitable[T]]) -> T:
    return run_admin(load_settings(data_dir=data_dir), lambda rt: body(rt.services))


def _format(path: Path, given: str | None) -> str | None:
    fmt = given or {".csv": "csv", ".json": "json"}.get(path.suffix.lower())
    if fmt not in (None, "csv", "json"):
        raise typer.BadParameter("--format must be csv or json")
    return fmt


@safety.command("list-banks")
def list_banks(data_dir: DataDir = None) -> None:
    """Every bank with its rules and hash counts."""
    banks = _run(data_dir, lambda s: s.banks.all_banks())
    for b in banks:
        kind = "negative" if b["negative"] else b["action"]
        state = "enabled" if b["enabled"] else "disabled"
        counts = " ".join(f"{k}={v}" for k, v in b["hashes"].items())
        typer.echo(f"{b['name']}\t{kind}\t{state}\tpdq<={b['pdq_threshold']} "
                   f"q>={b['quality_floor']}\t{counts}\t{b['source']}")


@safety.command("create-bank")
def create_bank(
    name: Annotated[str, typer.Argument(help="Bank name: letters, digits, . _ -")],
    action: Annotated[str, typer.Option(help="refuse or review.")] = "review",
    negative: Annotated[bool, typer.Option(help="Known false positives: cancel, never act.")]
        = False,
    pdq_threshold: Annotated[int, typer.Option(help="Largest PDQ distance that matches.")] = 31,
    quality_floor: Annotated[int, typer.Option(help="Smallest PDQ quality checked.")] = 50,
    source: Annotated[str, typer.Option(help="Where the hashes come from.")] = "",
    category: Annotated[str, typer.Option(help="Label: category.")] = "",
    entity: Annotated[str, typer.Option(help="Label: entity.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create a bank."""
    values = {"name": name, "action": action, "negative": negative, "source": source,
              "pdq_threshold": pdq_threshold, "quality_floor": quality_floor,
              "category": category, "entity": entity}
    bank = _run(data_dir, lambda s: s.banks.do_create(values))
    typer.echo(f"bank {bank['name']} created")


@safety.command("import-bank")
def import_bank(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                     help="CSV or JSON hash list.")],
                bank: BankOpt, fmt: FormatOpt = None,
                create: Annotated[bool, typer.Option(help="Create the bank if missing.")]
                    = False,
                data_dir: DataDir = None) -> None:
    """Import a hash list. The whole file is checked first; any bad row refuses it."""
    from rich.progress import Progress

    from darbuka.errors import NotFound
    from darbuka.safety.hashformats import ImportProblems, parse_bank_file

    try:
        parsed = parse_bank_file(file.read_bytes(), _format(file, fmt))
    except (ImportProblems, UnicodeDecodeError) as problems:
        _report(problems)
        raise typer.Exit(1) from None

    async def run(services: Services) -> dict[str, Any]:
        if create:
            try:
                await services.banks.get(bank)
            except NotFound:
                await services.banks.do_create({"name": bank})
        with Progress(transient=True) as progress:
            task = progress.add_task(f"importing into {bank}", total=len(parsed.rows))
            result: dict[str, Any] = await services.banks.do_import(
                bank, parsed, on_progress=lambda n: progress.advance(task, n))
        return result

    result = _run(data_dir, run)
    typer.echo(f"{result['added']} added, {result['already_present']} already present, "
               f"{result['rows']} rows read"
               + (f", {result['skipped_deleted']} deleted entries skipped"
                  if result["skipped_deleted"] else ""))


def _report(problems: Exception) -> None:
    from darbuka.safety.hashformats import ImportProblems

    if not isinstance(problems, ImportProblems):
        typer.echo("error: the file must be UTF-8 text; nothing imported", err=True)
        return
    typer.echo(f"error: {problems.total} bad row(s); nothing imported", err=True)
    for where, what in problems.problems:
        typer.echo(f"  {where}: {what}", err=True)
    if problems.total > len(problems.problems):
        typer.echo(f"  … and {problems.total - len(problems.problems)} more", err=True)


@safety.command("export-bank")
def export_bank(bank: BankOpt,
                output: Annotated[Path | None, typer.Option(help="File [standard output].")]
                    = None,
                fmt: FormatOpt = None, data_dir: DataDir = None) -> None:
    """Write a bank's active hashes as CSV or JSON."""
    from darbuka.safety.hashformats import dump_csv, dump_json

    fmt = (_format(output, fmt) if output else fmt) or "csv"
    if fmt not in ("csv", "json"):
        raise typer.BadParameter("--format must be csv or json")
    meta, rows = _run(data_dir, lambda s: s.banks.export(bank))
    data = dump_json(meta, rows) if fmt == "json" else dump_csv(rows).encode()
    if output:
        output.write_bytes(data)
        typer.echo(f"{len(rows)} hashes written to {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
