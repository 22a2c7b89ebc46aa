"""`ocop-kiosk print` (print stamps) and `ocop-kiosk jobs` (inspect and resolve print jobs)."""

from __future__ import annotations

import dataclasses
import sys
import threading

from kiosk.catalog import Catalog
from kiosk.cli.output import print_json_line, print_table
from kiosk.cli.stamp_cmd import _positive as _positive_int
from kiosk.printing.lock import PrintingLock
from kiosk.printing.queue import (
    JOBS_PAGE,
    JobState,
    PrintQueue,
    Progress,
    describe_label_error,
    label_content,
    label_layout,
)
from ocop.errors import ConfigError, NotFound, UserError
from printer import LabelError, PrinterError, render_label

BAR_WIDTH = 30


def register(sub) -> None:
    p = sub.add_parser(
        "print",
        help="print signed stamps for a product",
        description="Reserve COUNT pre-signed stamps of a product and print "
        "them on the configured printer (or --printer URI).",
    )
    p.add_argument("--product", type=int, required=True, metavar="ID")
    p.add_argument("--count", type=int, default=None, metavar="N")
    p.add_argument("--lot", default="", metavar="TEXT", help="lot text printed on the label")
    p.add_argument(
        "--printer",
        metavar="URI",
        help="tcp://host:9100, usb://VID:PID, "
        "serial:///dev/ttyUSB0?baud=115200, file:///dev/usb/lp0, virtual://DIR",
    )
    p.add_argument(
        "--preview",
        metavar="FILE.png",
        help="write a sample label as PNG and exit (reserves and prints nothing)",
    )
    p.set_defaults(handler=handle_print)

    j = sub.add_parser("jobs", help="print jobs: list, show, resolve, resume, cancel")
    jsub = j.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    x = jsub.add_parser(
        "list",
        help="jobs needing attention (any age), then the newest",
        description="Lists every job that needs staff (interrupted or "
        "failed with stamps left, uncertain stamps) whatever its age, then "
        f"the newest {JOBS_PAGE} others.",
    )
    x.add_argument("--json", action="store_true", help="one JSON object a line")
    size = x.add_mutually_exclusive_group()
    size.add_argument("--all", action="store_true", help="every job")
    size.add_argument(
        "--limit",
        type=_positive_int,
        default=JOBS_PAGE,
        metavar="N",
        help=f"how many of the other jobs (default {JOBS_PAGE})",
    )
    x.add_argument(
        "--before",
        type=_positive_int,
        metavar="ID",
        help="only jobs older than job ID (the next page)",
    )
    x.set_defaults(handler=handle_jobs_list)
    x = jsub.add_parser("show", help="one job with its printed / pending / uncertain serials")
    x.add_argument("job", type=int)
    x.set_defaults(handler=handle_jobs_show)
    x = jsub.add_parser(
        "resolve", help="after a crash: say whether an uncertain stamp came out of the printer"
    )
    x.add_argument("job", type=int)
    x.add_argument("serial", type=int)
    group = x.add_mutually_exclusive_group(required=True)
    group.add_argument("--printed", action="store_true", help="the label is on paper")
    group.add_argument(
        "--reprint",
        action="store_true",
        help="the label did not come out (or was destroyed): print it again",
    )
    x.set_defaults(handler=handle_jobs_resolve)
    x = jsub.add_parser("resume", help="continue an interrupted or failed job")
    x.add_argument("job", type=int)
    x.add_argument("--printer", metavar="URI")
    x.set_defaults(handler=handle_jobs_resume)
    x = jsub.add_parser("cancel", help="void the stamps a job has not printed yet")
    x.add_argument("job", type=int)
    x.set_defaults(handler=handle_jobs_cancel)


def _queue(ctx, printer_uri: str | None = None) -> PrintQueue:
    settings = ctx.settings
    if printer_uri:
        settings = dataclasses.replace(
            settings, printer=dataclasses.replace(settings.printer, uri=printer_uri)
        )
    return PrintQueue(ctx.store(), settings, ctx.data_dir)


def _bar(progress: Progress) -> None:
    """A redrawn bar on a terminal; on a pipe or log, one line per tenth and per message."""
    note = f"  {progress.message}" if progress.message else ""
    if not sys.stderr.isatty():
        step = max(1, progress.total // 10)
        if progress.message or progress.done % step == 0 or progress.state is not JobState.PRINTING:
            sys.stderr.write(f"{progress.done}/{progress.total} {progress.state.value}{note}\n")
            sys.stderr.flush()
        return
    filled = BAR_WIDTH * progress.done // max(progress.total, 1)
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
        f"{progress.done}/{progress.total}{note}\033[K"
    )
    if progress.state is not JobState.PRINTING:
        sys.stderr.write("\n")
    sys.stderr.flush()


def handle_print(args, ctx) -> int:
    queue = _queue(ctx, args.printer)
    if args.preview:
        product = Catalog(ctx.store()).product(args.product)
        if product is None:
            raise NotFound(f"no product {args.product} in the local catalog")
        sample = queue.settings.stamps.base_url + "SAMPLE"
        content = label_content(product, args.product, sample, 0, args.lot)
        layout = label_layout(queue.settings)
        try:
            image = render_label(content, layout)
        except LabelError as err:
            raise ConfigError(
                queue.settings.source, [describe_label_error(err, queue.settings)]
            ) from None
        image.save(args.preview, format="PNG")
        print(
            f"Preview written to {args.preview} ({image.width}x{image.height} dots; "
            f"sample QR, no serial used)"
        )
        return 0
    if args.count is None:
        raise UserError("--count N is required (or --preview FILE)")
    with PrintingLock(ctx.data_dir):
        queue.recover_interrupted()
        printer = _open_printer(queue)
        job_id = queue.submit(args.product, args.count, args.lot)
        return _run(queue, job_id, printer)


def _open_printer(queue: PrintQueue):
    """Connect before any serial is reserved; a printer problem is the user's to fix."""
    try:
        return queue.printer().open()
    except PrinterError as err:
        raise UserError(f"{err.staff_message_en} ({err.detail})") from None


def _run(queue: PrintQueue, job_id: int, printer) -> int:
    stop = threading.Event()
    try:
        view = queue.run_job(job_id, printer, on_progress=_bar, stop=stop)
    finally:
        printer.close()
    print(
        f"Job {view.id}: {view.state.value}; printed {len(view.printed)} of {view.count}"
        + (f" (serials {view.printed[0]}-{view.printed[-1]})" if view.printed else "")
    )
    if view.uncertain:
        print(
            f"Check the printer: serial(s) {', '.join(map(str, view.uncertain))} may or may "
            f"not have printed. Then run: ocop-kiosk jobs resolve {view.id} SERIAL "
            f"--printed|--reprint"
        )
    if view.error:
        print(f"Job {view.id} {view.state.value}: {view.error}", file=sys.stderr)
    return 0 if view.state is JobState.DONE else 1


_JOB_COLUMNS = [
    "job",
    "product",
    "count",
    "state",
    "printed",
    "left",
    "uncertain",
    "created",
    "error",
]


def _job_row(job) -> tuple:
    return (
        job.id,
        job.product_id,
        job.count,
        job.state.value,
        len(job.printed),
        len(job.pending),
        len(job.uncertain),
        job.created_at[:16].replace("T", " "),
        job.error,
    )


def handle_jobs_list(args, ctx) -> int:
    page = _queue(ctx).job_page(limit=None if args.all else args.limit, before=args.before)
    more = ""
    if page.older:
        more = (
            f"{page.older} older job(s) not shown: ocop-kiosk jobs list "
            f"--before {page.jobs[-1].id} (or --all)"
        )
    if args.json:
        for job in page.attention + page.jobs:
            print_json_line(job.to_json())
        if more:
            print(more, file=sys.stderr)  # stdout stays one JSON object a line
        return 0
    if page.attention:
        print(
            f"Need attention ({len(page.attention)}): see 'ocop-kiosk jobs show ID', then "
            f"resolve, resume or cancel"
        )
        print_table(_JOB_COLUMNS, [_job_row(j) for j in page.attention])
        print()
    if page.jobs:
        print("Other jobs, newest first:" if page.attention else "Jobs, newest first:")
        print_table(_JOB_COLUMNS, [_job_row(j) for j in page.jobs])
    elif not page.attention:
        print(
            "No print jobs."
            if args.before is None
            else f"No other print jobs before job {args.before}."
        )
    if more:
        print(more)
    return 0


def handle_jobs_show(args, ctx) -> int:
    print_json_line(_queue(ctx).job(args.job).to_json())
    return 0


def handle_jobs_resolve(args, ctx) -> int:
    _queue(ctx).resolve_uncertain(args.job, args.serial, printed=args.printed)
    print(
        f"Job {args.job} serial {args.serial}: "
        + ("recorded as printed" if args.printed else "will be printed again on resume")
    )
    return 0


def handle_jobs_resume(args, ctx) -> int:
    queue = _queue(ctx, args.printer)
    with PrintingLock(ctx.data_dir):
        queue.recover_interrupted()
        printer = _open_printer(queue)
        queue.resume(args.job)
        return _run(queue, args.job, printer)


def handle_jobs_cancel(args, ctx) -> int:
    voided = _queue(ctx).cancel(args.job)
    print(f"Job {args.job}: {voided} unprinted stamp(s) voided")
    return 0
