"""The crash-safe print queue: jobs and stamps in SQLite, one label at a time.

Job states: QUEUED -> PRINTING -> DONE | FAILED | INTERRUPTED.

FAILED: the job stopped for a reason it knows and stored in `error` (a label that cannot be
drawn at the configured size, a printer fault that retries did not cure, staff cancelled);
no label of it is on paper without being recorded. INTERRUPTED: cut off while a label may
have been on its way (a crash or power cut found at start-up, a connection lost mid-label,
a stop); staff check the printer. Both keep their unprinted serials reserved for resume.
Stamp states (table `stamps`), each move committed before the next step:

    available --submit--> reserved --before send--> printing --printer confirmed--> printed
                                                       |
                                                       +-- crash / error after bytes left --> stays
                                                           'printing' = UNCERTAIN: a person decides
    reserved --cancel--> void

Why this order: a serial leaves 'available' in the same transaction that creates its job, so
it is never handed out twice. A stamp is marked 'printing' (committed) before its bytes go to
the printer, so after kill -9 we know exactly which label may be on paper; it is never sent
again unless staff confirm a reprint (`resolve_uncertain(..., printed=False)`). Each printed
stamp and its outbox 'print' record are written in one transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from kiosk.catalog import Catalog, ProductView
from kiosk.settings import PrinterSettings, Settings, StampSettings
from kiosk.stamps.demo import load_demo_signer
from kiosk.stamps.service import take_stamps
from kiosk.store import Store
from ocop import wire
from ocop.clock import utc_now_iso
from ocop.enums import EnumWithAttributes
from ocop.errors import ConfigError, NotFound, UserError
from ocop.i18n import N_
from ocop.lots import LATEST_YEAR, LotDates
from ocop.paper import DOTS_BY_WIDTH_MM
from ocop.stamps.codec import (
    MAX_SERIAL,
    PAYLOAD_DIGITS,
    stamp_prefix,
    stamp_qr_segments,
)
from ocop.stamps.errors import StampFormatError
from ocop.stamps.serials import serial_digits
from printer import (
    CoverOpen,
    JobPhase,
    LabelContent,
    LabelError,
    LabelLayout,
    PaperOut,
    Printer,
    PrinterError,
    PrinterFault,
    render_label,
)
from printer.label import LabelTooShort, QrSegments, min_height_dots, whole_mm_for_dots

log = logging.getLogger(__name__)

MAX_STAMPS_PER_JOB = 1000
MAX_LOT_CHARS = wire.LOT_CHARS
JOBS_PAGE = 20  # `jobs list` shows this many jobs besides those needing attention
RETRY_BASE_S = 1.0
RETRY_MAX_S = 30.0
MAX_TRANSPORT_RETRIES = 8  # then the job FAILS (remaining stamps stay reserved)
PAUSE_POLL_S = 2.0  # paper out / cover open: how often to look again
# Faults a person must fix at the printer: the job waits (paused), it does not fail.
_PAUSING_FAULTS = frozenset({PrinterFault.PAPER_OUT, PrinterFault.COVER_OPEN, PrinterFault.OFFLINE})
_FATAL_FAULTS = frozenset(
    {PrinterFault.BAD_URI, PrinterFault.UNSUPPORTED, PrinterFault.IMAGE_TOO_WIDE}
)


class JobState(EnumWithAttributes):
    """A print job's state, with the staff screen's label (msgid, kiosk catalog)."""

    QUEUED = ("queued", N_("Waiting"))
    PRINTING = ("printing", N_("Printing"))
    DONE = ("done", N_("Done"))
    FAILED = ("failed", N_("Failed"))  # also: cancelled by staff (the error says so)
    INTERRUPTED = ("interrupted", N_("Interrupted: check the printed labels"))

    label: str


# A job in one of these states that still holds serials (reserved or uncertain) waits for
# staff: check, resume or cancel. The same rule in SQL: _ATTENTION_SQL.
ATTENTION_STATES = frozenset({JobState.INTERRUPTED, JobState.FAILED})


class StampState(enum.Enum):
    RESERVED = "reserved"
    PRINTING = "printing"  # bytes may have reached the printer: uncertain until resolved
    PRINTED = "printed"
    VOID = "void"


def needs_attention(job: JobView) -> bool:
    """Staff must decide about this job's serials: an interrupted or failed job that still
    holds some (uncertain or not printed yet), or a job not printing with an uncertain label.
    The one definition (the staff screen and `jobs list` use it); in SQL: _ATTENTION_SQL."""
    return (job.state in ATTENTION_STATES and bool(job.uncertain or job.pending)) or (
        job.state is not JobState.PRINTING and bool(job.uncertain)
    )


@dataclass(frozen=True)
class JobView:
    id: int
    product_id: int
    lot: str
    count: int
    state: JobState
    error: str
    printed: list[int]
    pending: list[int]
    uncertain: list[int]
    void: list[int]
    created_at: str
    updated_at: str
    produced_on: str | None = None  # ISO dates of the lot (ocop/lots.py), if staff gave them
    best_before: str | None = None

    @property
    def needs_attention(self) -> bool:
        return needs_attention(self)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "product_id": self.product_id,
            "lot": self.lot,
            "count": self.count,
            "state": self.state.value,
            "error": self.error,
            "printed": self.printed,
            "pending": self.pending,
            "uncertain": self.uncertain,
            "void": self.void,
            "needs_attention": self.needs_attention,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "produced_on": self.produced_on,
            "best_before": self.best_before,
        }


_ATTENTION_SQL = (
    "SELECT id FROM print_jobs WHERE "
    f"(state IN ({', '.join(repr(s.value) for s in ATTENTION_STATES)}) AND id IN "
    f"(SELECT job_id FROM stamps WHERE state IN ('reserved', 'printing'))) "
    "OR (state <> 'printing' AND id IN (SELECT job_id FROM stamps WHERE state = 'printing')) "
    "ORDER BY id DESC"
)


@dataclass(frozen=True)
class JobPage:
    """What `jobs list` shows: every job needing attention whatever its age, then one page
    of the others, newest first."""

    attention: list[JobView]
    jobs: list[JobView]
    older: int  # other jobs older than this page, not shown


@dataclass
class Progress:
    """What a running job reports to the CLI progress bar or the staff screen."""

    job_id: int
    done: int
    total: int
    state: JobState
    message: str = ""  # staff-readable, e.g. the printer error while paused
    paused: bool = False
    last_serial: int | None = None
    error: PrinterError | None = field(default=None, repr=False)


ProgressCallback = Callable[[Progress], None]


def label_layout(settings: Settings) -> LabelLayout:
    return LabelLayout(
        width_dots=DOTS_BY_WIDTH_MM[settings.printer.width_mm],
        height_mm=settings.printer.label_height_mm,
    )


def label_problem(settings: Settings) -> str | None:
    """Render the largest stamp label this station can be asked for at the configured paper
    size; what is wrong (naming the setting and the minimum) when it does not fit."""
    return _label_problem(
        settings.printer.width_mm, settings.printer.label_height_mm, settings.stamps.base_url
    )


@functools.lru_cache(maxsize=8)
def _label_problem(width_mm: int, height_mm: int, base_url: str) -> str | None:
    settings = Settings(
        printer=PrinterSettings(width_mm=width_mm, label_height_mm=height_mm),
        stamps=StampSettings(base_url=base_url),
    )
    try:
        render_label(_largest_label(base_url), label_layout(settings))
    except LabelError as err:
        return describe_label_error(err, settings)
    return None


def label_minimum_mm(settings: Settings) -> int:
    """The shortest label (whole mm) that holds any stamp on the configured paper width."""
    return _label_minimum_mm(settings.printer.width_mm, settings.stamps.base_url)


@functools.lru_cache(maxsize=8)
def _label_minimum_mm(width_mm: int, base_url: str) -> int:
    layout = label_layout(Settings(printer=PrinterSettings(width_mm=width_mm)))
    return whole_mm_for_dots(min_height_dots(_largest_label(base_url), layout), layout.dpi)


def _largest_label(base_url: str) -> LabelContent:
    """A label with every line as long as it can be (text beyond that is cut with '…', so
    real products never need more room): a full-length stamp, the longest serial and lot,
    five stars."""
    long_text = "Sản phẩm OCOP đặc sản vùng cao Sơn La chất lượng " * 8
    product: Any = SimpleNamespace(
        name_vi=long_text, producer=long_text, district=long_text, stars=5
    )
    # A stamp is 'https://' + host/path + PAYLOAD_DIGITS digits: its QR size is fixed.
    stamp = stamp_prefix(base_url) + "9" * PAYLOAD_DIGITS
    widest_day = dt.date(LATEST_YEAR, 12, 28)  # dd/mm/yyyy: every date is as wide
    return label_content(
        product, 0, stamp, MAX_SERIAL, "9" * MAX_LOT_CHARS, LotDates(widest_day, widest_day)
    )


def describe_label_error(err: LabelError, settings: Settings) -> str:
    """A label that cannot be drawn, said as the setting to change."""
    p = settings.printer
    if isinstance(err, LabelTooShort):
        module = label_layout(settings).qr_module_dots
        return (
            f"printer.label_height_mm: {p.label_height_mm} mm is too short for a stamp "
            f"label on {p.width_mm} mm paper: at least {err.needed_mm} mm is needed (the "
            f"QR code at {module} dots a module with its quiet zone, the serial number "
            f"and the text)"
        )
    return f"printer.width_mm: a stamp label does not fit on {p.width_mm} mm paper: {err}"


def serial_text(serial: int) -> str:
    return "Số/No. " + serial_digits(serial)


def label_footer(lot: str, dates: LotDates | None = None) -> str:
    """The footer: the lot, then its dates ("Lô/Lot A12 · NSX 01/11/2026 HSD 01/05/2027");
    the renderer shrinks it to fit and cuts with '…' what still has no room."""
    parts = [f"Lô/Lot {lot}" if lot else "", dates.footer() if dates else ""]
    return " · ".join(p for p in parts if p)


def job_dates(view: JobView) -> LotDates:
    """The job's stored ISO dates as LotDates."""
    return LotDates(
        dt.date.fromisoformat(view.produced_on) if view.produced_on else None,
        dt.date.fromisoformat(view.best_before) if view.best_before else None,
    )


def _qr_segments(text: str) -> QrSegments:
    """The mixed segments of a current-spelling stamp (v6-M); a legacy text prints as is."""
    try:
        return cast(QrSegments, stamp_qr_segments(text))
    except StampFormatError:
        return ()


def label_content(
    product: ProductView | None,
    product_id: int,
    text: str,
    serial: int,
    lot: str = "",
    dates: LotDates | None = None,
) -> LabelContent:
    footer = label_footer(lot, dates)
    if product is None:
        return LabelContent(
            qr_text=text,
            qr_segments=_qr_segments(text),
            title=f"OCOP #{product_id}",
            serial_text=serial_text(serial),
            footer=footer,
        )
    return LabelContent(
        qr_text=text,
        qr_segments=_qr_segments(text),
        title=product.name_vi,
        serial_text=serial_text(serial),
        producer=product.producer,
        district=product.district,
        stars=product.stars,
        footer=footer,
    )


class PrintQueue:
    def __init__(
        self, store: Store, settings: Settings, data_dir: Path, today: dt.date | None = None
    ):
        self.store = store
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.catalog = Catalog(store, today=today)
        self._today = today
        self._sleep = threading.Event()  # set() to wake a paused/backing-off job at once

    # --- creating and inspecting jobs ------------------------------------------------------

    def submit(
        self, product_id: int, count: int, lot: str = "", dates: LotDates | None = None
    ) -> int:
        """Create a QUEUED job and reserve its serials in the same transaction. `dates`
        were checked by ocop.lots.check_lot_dates (against the trusted today)."""
        dates = dates or LotDates()
        if (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not 1 <= count <= MAX_STAMPS_PER_JOB
        ):
            raise UserError(f"count must be 1..{MAX_STAMPS_PER_JOB}, got {count!r}")
        lot = lot.strip()
        if len(lot) > MAX_LOT_CHARS:
            raise UserError(f"lot text is longer than {MAX_LOT_CHARS} characters")
        if self.catalog.product(product_id) is None:
            raise NotFound(f"no product {product_id} in the local catalog")
        problem = label_problem(self.settings)
        if problem:  # before any serial is reserved: nothing changes
            raise ConfigError(self.settings.source, [problem])
        demo_signer = load_demo_signer(self.store, self.data_dir, self.settings)
        now = utc_now_iso(micros=True)
        with self.store.transaction() as conn:
            job_id = conn.execute(
                "INSERT INTO print_jobs(product_id, lot, count, state, printer_uri, "
                "created_at, updated_at, produced_on, best_before) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (
                    product_id,
                    lot,
                    count,
                    self.settings.printer.uri,
                    now,
                    now,
                    dates.produced_on and dates.produced_on.isoformat(),
                    dates.best_before and dates.best_before.isoformat(),
                ),
            ).lastrowid
            assert job_id is not None  # sqlite3 sets it after every INSERT
            take_stamps(
                conn,
                product_id,
                count,
                job_id=job_id,
                state=StampState.RESERVED.value,
                demo_signer=demo_signer,
                today=self._today,
            )
        log.info("print job %d: %d stamp(s) of product %d reserved", job_id, count, product_id)
        return job_id

    def job(self, job_id: int) -> JobView:
        row = self.store.query_one("SELECT * FROM print_jobs WHERE id = ?", (job_id,))
        if row is None:
            raise NotFound(f"no print job {job_id}")
        by_state: dict[str, list[int]] = {s.value: [] for s in StampState}
        for serial, state in self.store.query(
            "SELECT serial, state FROM stamps WHERE job_id = ? ORDER BY serial", (job_id,)
        ):
            by_state.setdefault(state, []).append(serial)
        return JobView(
            row["id"],
            row["product_id"],
            row["lot"],
            row["count"],
            JobState(row["state"]),
            row["error"],
            by_state["printed"],
            by_state["reserved"],
            by_state["printing"],
            by_state["void"],
            row["created_at"],
            row["updated_at"],
            row["produced_on"],
            row["best_before"],
        )

    def jobs(self, limit: int = JOBS_PAGE) -> list[JobView]:
        """The newest jobs, whatever their state."""
        ids = [
            r[0]
            for r in self.store.query(
                "SELECT id FROM print_jobs ORDER BY id DESC LIMIT ?", (limit,)
            )
        ]
        return [self.job(i) for i in ids]

    def attention_jobs(self) -> list[JobView]:
        """Every job needing staff (JobView.needs_attention), newest first, whatever its age."""
        return [self.job(r[0]) for r in self.store.query(_ATTENTION_SQL)]

    def job_page(self, limit: int | None = JOBS_PAGE, before: int | None = None) -> JobPage:
        """Jobs needing attention, then `limit` of the others (None: all) older than job
        `before` (None: from the newest)."""
        attention = self.attention_jobs()
        skip = tuple(j.id for j in attention)
        where = f"id NOT IN ({','.join('?' * len(skip))})" if skip else "1"
        params: tuple = skip
        if before is not None:
            where += " AND id < ?"
            params += (before,)
        ids = [
            r[0]
            for r in self.store.query(
                f"SELECT id FROM print_jobs WHERE {where} ORDER BY id DESC LIMIT ?",
                params + (-1 if limit is None else limit,),
            )
        ]
        older = 0
        if ids:
            older = self.store.query_value(
                f"SELECT count(*) FROM print_jobs WHERE {where} AND id < ?", params + (ids[-1],)
            )
        return JobPage(attention, [self.job(i) for i in ids], older)

    def next_queued(self) -> int | None:
        row = self.store.query_one(
            "SELECT id FROM print_jobs WHERE state = 'queued' ORDER BY id LIMIT 1"
        )
        return row[0] if row else None

    # --- after a crash ---------------------------------------------------------------------

    def recover_interrupted(self) -> list[int]:
        """At start-up: a job left PRINTING was cut off by a crash or power loss."""
        with self.store.transaction() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM print_jobs WHERE state = 'printing'"
                ).fetchall()
            ]
            for job_id in ids:
                self._set_state(
                    conn,
                    job_id,
                    JobState.INTERRUPTED,
                    "interrupted (power cut or crash): check the last stamp",
                )
        if ids:
            log.warning("print jobs interrupted by a crash: %s", ids)
        return ids

    def resolve_uncertain(self, job_id: int, serial: int, printed: bool) -> None:
        """Staff looked at the printer: the label for `serial` came out (printed=True) or
        not, and may be printed again (printed=False: the reprint a person confirmed)."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT state FROM stamps WHERE serial = ? AND job_id = ?", (serial, job_id)
            ).fetchone()
            if row is None or row[0] != StampState.PRINTING.value:
                raise UserError(f"serial {serial} is not an uncertain stamp of job {job_id}")
            if printed:
                self._mark_printed(conn, job_id, serial)
            else:
                conn.execute("UPDATE stamps SET state = 'reserved' WHERE serial = ?", (serial,))
            log.info(
                "job %d serial %d resolved by staff: %s",
                job_id,
                serial,
                "printed" if printed else "reprint",
            )

    def resume(self, job_id: int) -> None:
        """Put an INTERRUPTED or FAILED job back in the queue (uncertain stamps first need
        resolve_uncertain)."""
        view = self.job(job_id)
        if view.uncertain:
            raise UserError(
                f"job {job_id}: staff must first check serial(s) "
                f"{', '.join(map(str, view.uncertain))} (printed or reprint?)"
            )
        if view.state not in (JobState.INTERRUPTED, JobState.FAILED):
            raise UserError(
                f"job {job_id} is {view.state.value}; only interrupted or failed "
                "jobs can be resumed"
            )
        with self.store.transaction() as conn:
            self._set_state(conn, job_id, JobState.QUEUED, "")

    def cancel(self, job_id: int) -> int:
        """Void the stamps not yet printed (their serials are never used again)."""
        view = self.job(job_id)
        if view.uncertain:
            raise UserError(
                f"job {job_id}: check serial(s) {', '.join(map(str, view.uncertain))} first"
            )
        with self.store.transaction() as conn:
            for serial in view.pending:
                conn.execute("UPDATE stamps SET state = 'void' WHERE serial = ?", (serial,))
                self._outbox_print(conn, job_id, serial, "void")
            if view.state is not JobState.DONE:
                self._set_state(conn, job_id, JobState.FAILED, "cancelled by staff")
        return len(view.pending)

    # --- printing --------------------------------------------------------------------------

    def printer(self) -> Printer:
        uri = self.settings.printer.uri
        if uri.strip() in ("virtual:", "virtual://"):
            # The demo printer keeps its labels as PNG files in the data folder.
            uri = f"virtual://{self.data_dir / 'virtual-printer'}"
        return Printer(uri, width_dots=DOTS_BY_WIDTH_MM[self.settings.printer.width_mm])

    def wake(self) -> None:
        """Staff fixed the printer: stop waiting and try again now."""
        self._sleep.set()

    def run_job(
        self,
        job_id: int,
        printer: Printer,
        *,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> JobView:
        stop = stop or threading.Event()
        report = on_progress or (lambda progress: None)
        view = self.job(job_id)
        if view.state is not JobState.QUEUED:
            raise UserError(f"job {job_id} is {view.state.value}, not queued")
        if view.uncertain:
            raise UserError(f"job {job_id} has uncertain stamps; resolve them first")
        product = self.catalog.product(view.product_id)
        layout = label_layout(self.settings)
        with self.store.transaction() as conn:
            self._set_state(conn, job_id, JobState.PRINTING, "")
        done = len(view.printed)
        texts: dict[int, str] = (
            dict(
                self.store.query(  # type: ignore[arg-type]  # rows of 2
                    f"SELECT serial, text FROM stamps WHERE serial IN "
                    f"({','.join('?' * len(view.pending))})",
                    tuple(view.pending),
                )
            )
            if view.pending
            else {}
        )
        report(Progress(job_id, done, view.count, JobState.PRINTING))
        dates = job_dates(view)
        for serial in view.pending:
            try:
                image = render_label(
                    label_content(product, view.product_id, texts[serial], serial, view.lot, dates),
                    layout,
                )
            except Exception as exc:  # noqa: BLE001 - nothing of this label left: the job fails, with why
                reason = self._render_failure(job_id, serial, exc)
                return self._end(job_id, JobState.FAILED, reason, report, done, view.count)
            outcome = self._print_one(
                job_id, serial, printer, image, stop, report, done, view.count
            )
            if outcome is not None:
                return outcome
            done += 1
            report(Progress(job_id, done, view.count, JobState.PRINTING, last_serial=serial))
        with self.store.transaction() as conn:
            self._set_state(conn, job_id, JobState.DONE, "")
        final = self.job(job_id)
        report(Progress(job_id, done, view.count, JobState.DONE))
        return final

    def _render_failure(self, job_id: int, serial: int, exc: Exception) -> str:
        if isinstance(exc, LabelError):
            log.error("job %d serial %d: label cannot be drawn: %s", job_id, serial, exc)
            return f"label cannot be printed: {describe_label_error(exc, self.settings)}"
        log.exception("job %d serial %d: drawing the label failed", job_id, serial)
        return f"label could not be drawn: {type(exc).__name__}: {exc}"

    def _print_one(
        self, job_id, serial, printer, image, stop, report, done, total
    ) -> JobView | None:
        """Print one label; returns None on success, the final JobView when the job ends."""
        attempt = 0
        while True:
            if stop.is_set():
                return self._end(job_id, JobState.INTERRUPTED, "stopped", report, done, total)
            with self.store.transaction() as conn:
                conn.execute(
                    "UPDATE stamps SET state = 'printing' WHERE serial = ? AND state = 'reserved'",
                    (serial,),
                )
            try:
                printer.print_image(image)
            except PrinterError as err:
                message = err.staff_message_en
                if not err.phase.nothing_sent:
                    # Bytes left: the label may be on paper. A person must decide.
                    log.warning("job %d serial %d: %s after sending", job_id, serial, err)
                    return self._end(
                        job_id, JobState.INTERRUPTED, message, report, done, total, err
                    )
                with self.store.transaction() as conn:
                    conn.execute("UPDATE stamps SET state = 'reserved' WHERE serial = ?", (serial,))
                if err.fault in _FATAL_FAULTS:
                    return self._end(job_id, JobState.FAILED, message, report, done, total, err)
                if err.fault in _PAUSING_FAULTS:
                    report(
                        Progress(
                            job_id, done, total, JobState.PRINTING, message, paused=True, error=err
                        )
                    )
                    self._wait(PAUSE_POLL_S, stop)
                    continue
                attempt += 1
                if attempt > MAX_TRANSPORT_RETRIES:
                    return self._end(job_id, JobState.FAILED, message, report, done, total, err)
                delay = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (attempt - 1))
                delay *= random.uniform(0.8, 1.2)
                report(
                    Progress(
                        job_id,
                        done,
                        total,
                        JobState.PRINTING,
                        f"{message} (retry {attempt} in {delay:.0f} s)",
                        error=err,
                    )
                )
                printer.close()
                self._wait(delay, stop)
                continue
            with self.store.transaction() as conn:
                self._mark_printed(conn, job_id, serial)
            return None

    def _wait(self, seconds: float, stop: threading.Event) -> None:
        # Wake early when staff press "try again" or the job is stopped.
        deadline_hit = self._sleep.wait(seconds)
        if deadline_hit:
            self._sleep.clear()

    def _end(self, job_id, state, message, report, done, total, err=None) -> JobView:
        with self.store.transaction() as conn:
            self._set_state(conn, job_id, state, message)
        report(Progress(job_id, done, total, state, message, error=err))
        return self.job(job_id)

    def _mark_printed(self, conn, job_id: int, serial: int) -> None:
        now = utc_now_iso(micros=True)
        conn.execute(
            "UPDATE stamps SET state = 'printed', printed_at = ? WHERE serial = ?", (now, serial)
        )
        self._outbox_print(conn, job_id, serial, "printed", now)

    def _outbox_print(
        self, conn, job_id: int, serial: int, status: str, when: str | None = None
    ) -> None:
        row = conn.execute(
            "SELECT product_id, key_id FROM stamps WHERE serial = ?", (serial,)
        ).fetchone()
        lot, produced_on, best_before = conn.execute(
            "SELECT lot, produced_on, best_before FROM print_jobs WHERE id = ?", (job_id,)
        ).fetchone()
        when = when or utc_now_iso(micros=True)
        payload = {
            "serial": serial,
            "product_id": row[0],
            "key_id": row[1],
            "job_id": job_id,
            "lot": lot,
            "produced_on": produced_on,  # ISO dates or None (sync protocol 2, issue 15)
            "best_before": best_before,
            "status": status,
            "at": when,
            "site_name": self.settings.site.name,
        }
        conn.execute(
            "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at) "
            "VALUES ('print', ?, ?, ?)",
            (str(uuid.uuid4()), json.dumps(payload, ensure_ascii=False), when),
        )

    def _set_state(self, conn, job_id: int, state: JobState, error: str) -> None:
        conn.execute(
            "UPDATE print_jobs SET state = ?, error = ?, updated_at = ? WHERE id = ?",
            (state.value, error, utc_now_iso(micros=True), job_id),
        )


class PrintWorker(threading.Thread):
    """Background printing for the staff screen: runs queued jobs one after another."""

    def __init__(
        self,
        queue: PrintQueue,
        on_progress: ProgressCallback | None = None,
        idle_poll_s: float = 1.0,
    ):
        super().__init__(name="print-worker", daemon=True)
        self.queue = queue
        self.on_progress = on_progress
        self.idle_poll_s = idle_poll_s
        self.stop_event = threading.Event()
        self._kick = threading.Event()

    def kick(self) -> None:
        """A job was submitted (or the printer fixed): look now."""
        self._kick.set()
        self.queue.wake()

    def stop(self) -> None:
        self.stop_event.set()
        self.kick()

    def run(self) -> None:
        printer = None
        while not self.stop_event.is_set():
            job_id = self.queue.next_queued()
            if job_id is None:
                self._kick.wait(self.idle_poll_s)
                self._kick.clear()
                continue
            try:
                printer = printer or self.queue.printer()
                self.queue.run_job(
                    job_id, printer, on_progress=self.on_progress, stop=self.stop_event
                )
            except PrinterError as err:  # e.g. a bad URI: the job fails with the reason
                log.error("print job %d: %s", job_id, err)
                with self.queue.store.transaction() as conn:
                    self.queue._set_state(conn, job_id, JobState.FAILED, err.staff_message_en)
            except Exception as exc:
                log.exception("print job %d crashed", job_id)
                with self.queue.store.transaction() as conn:
                    self.queue._set_state(
                        conn,
                        job_id,
                        JobState.FAILED,
                        f"internal error: {type(exc).__name__}: {exc}",
                    )
        if printer is not None:
            printer.close()


# Re-exported for callers that only need the error types.
__all__ = [
    "CoverOpen",
    "JobPage",
    "JobPhase",
    "JobState",
    "JobView",
    "PaperOut",
    "PrintQueue",
    "PrintWorker",
    "Progress",
    "StampState",
    "label_content",
    "label_layout",
    "label_minimum_mm",
    "label_problem",
    "needs_attention",
    "serial_text",
]
