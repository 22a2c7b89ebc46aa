"""`ocop-registry catalog import FILE [--apply]` and `ocop-registry catalog export OUT`: the
office's spreadsheets (registry/catalog_import.py). The import prints every problem by row
and column; it writes nothing without --apply, and nothing while there is one problem."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from registry import audit, catalog_import
from registry.cli_admin import CliDeps

EXIT_PROBLEMS = 1  # the file has problems (the table says which)


def cmd_import(deps: CliDeps, args) -> int:
    path = Path(args.file)
    try:
        with path.open("rb") as f:
            content = f.read(catalog_import.MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        raise deps.cli_error(f"{path}: {exc.strerror}") from None
    database, _ = deps.open_registry(deps.config(args))

    audited = catalog_import.audit_hook(audit.cli_actor(), audit.CLI_CLIENT, path.name)
    report = catalog_import.import_catalog(
        database, content, path.name, apply=args.apply, audit=audited
    )
    if report.problems:
        print(catalog_import.problem_table(report.problems, args.lang))
        print(f"{path}: {len(report.problems)} problem(s); nothing written", file=sys.stderr)
        return EXIT_PROBLEMS
    assert report.summary is not None
    counts = catalog_import.summary_json(report.summary)
    for kind, c in counts.items():
        print(f"{kind}: {c['created']} new, {c['updated']} changed, {c['unchanged']} unchanged")
    print(f"{path}: applied" if report.applied else f"{path}: dry run, nothing written (--apply)")
    return 0


def cmd_export(deps: CliDeps, args) -> int:
    database, _ = deps.open_registry(deps.config(args))
    content = catalog_import.export_catalog(
        database,
        args.format,
        delimiter=catalog_import.DELIMITERS[args.delimiter],
        lang=args.lang,
    )
    out = Path(args.out)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(content)
    os.replace(tmp, out)
    print(f"wrote {out} ({len(content)} bytes)")
    return 0


def add_parser(sub, common: argparse.ArgumentParser, parser_class, deps: CliDeps) -> None:
    """Register `catalog import|export` on the top-level subparsers."""
    group = sub.add_parser("catalog", help="catalog spreadsheets (CSV, XLSX)").add_subparsers(
        dest="catalog_command", metavar="ACTION", parser_class=parser_class, required=True
    )

    def bind(handler):
        return lambda args: handler(deps, args)

    p = group.add_parser(
        "import", parents=[common], help="check a CSV/XLSX file; --apply writes it"
    )
    p.add_argument("file")
    p.add_argument("--apply", action="store_true", help="write it (one transaction)")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="problems' language")
    p.set_defaults(handler=bind(cmd_import))
    p = group.add_parser("export", parents=[common], help="the catalog as CSV or XLSX")
    p.add_argument("out")
    p.add_argument("--format", choices=tuple(catalog_import.EXPORT_FORMATS), default="csv")
    p.add_argument("--delimiter", choices=tuple(catalog_import.DELIMITERS), default="comma")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="headers' language")
    p.set_defaults(handler=bind(cmd_export))
