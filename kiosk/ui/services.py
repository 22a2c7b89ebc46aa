"""What the UI talks to, built from Settings + Store: one object, no Kivy.

    services = Services.create(settings, store, data_dir)
    services.scan.handle_text(text)        -> kiosk.scanning.ScanOutcome (slow: worker thread)
    services.print_queue.submit(...)       -> job id (kiosk.printing.queue.PrintQueue)
    services.printer_status()              -> (PrinterState, staff message)   (poller thread)
    services.sync_status() / sync_now()    -> SyncView             (kiosk.sync when present)
    services.watch_devices(camera_state, camera_is_demo)   the app's camera, for heartbeats
    services.camera_reading() / printer_reading()  -> kiosk.sync.heartbeat.DeviceReading
    services.pin_gate                      -> kiosk.staff_pin.PinGate
    services.image_path(image_hash, size)  -> Path | None  (a display rendition; may decode)

Every call that may block (scrypt, SQLite writes, printer I/O, network) is made from a worker
thread by the app; callbacks come back on those threads and the app hops them onto the UI
thread with Clock.schedule_once.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.catalog import Catalog
from kiosk.media import find_media_file
from kiosk.media_renditions import RenditionSize, ensure_rendition
from kiosk.settings import Settings
from kiosk.staff_pin import PinGate

if TYPE_CHECKING:  # the print and sync parts load only when a mode needs them
    from kiosk.printing.lock import PrintingLock
    from kiosk.printing.queue import PrintQueue, PrintWorker
    from kiosk.sync.heartbeat import DeviceReading
    from kiosk.sync.loop import SyncLoop

log = logging.getLogger(__name__)

PRINTER_POLL_S = 5.0


@dataclass(frozen=True)
class SyncView:
    state: str  # kiosk.sync.status.SyncState value
    pending: int  # outbox rows not yet sent
    last_success: str  # ISO time or ""
    detail: str  # English detail for staff ("" when none)
    label_vi: str = ""
    label_en: str = ""
    failed: bool = False  # the last round failed (offline, error, refused...): show detail

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en


class PrinterMonitor(threading.Thread):
    """Polls the printer status every few seconds while `active` (staff screen shown) and no
    job is printing (the print worker owns the connection then). Closes the connection after
    each poll so a network printer stays free."""

    def __init__(
        self,
        make_printer: Callable[[], Any],
        on_status: Callable,
        busy: Callable[[], bool],
        poll_s: float = PRINTER_POLL_S,
    ):
        super().__init__(name="printer-monitor", daemon=True)
        self.make_printer = make_printer
        self.on_status = on_status
        self.busy = busy
        self.poll_s = poll_s
        self.active = threading.Event()
        self.stop_event = threading.Event()
        self._kick = threading.Event()
        self.last_reading: DeviceReading | None = None  # of the last poll

    def _note(self, state, paper) -> None:
        from kiosk.sync.heartbeat import DeviceReading
        from ocop.clock import utc_now_iso

        self.last_reading = DeviceReading(state.value, utc_now_iso(), paper.value)

    def poll_now(self) -> None:
        self._kick.set()

    def stop(self) -> None:
        self.stop_event.set()
        self._kick.set()

    def run(self) -> None:
        from printer import PrinterError
        from printer.status import PaperState, PrinterState

        while not self.stop_event.is_set():
            if self.active.is_set() and not self.busy():
                printer = None
                try:
                    printer = self.make_printer()
                    status = printer.status()
                    self._note(status.state, status.paper)
                    self.on_status(status.state, "")
                except PrinterError as err:
                    state = (
                        PrinterState.NOT_CONNECTED
                        if err.phase.value == "connect" or err.fault.value == "not_found"
                        else PrinterState.OFFLINE
                    )
                    self._note(state, PaperState.UNKNOWN)
                    self.on_status(state, err)
                except Exception as exc:  # noqa: BLE001 - a bad URI, a driver bug: show it, keep polling
                    log.warning("printer status failed: %s", exc)
                    self._note(PrinterState.NOT_CONNECTED, PaperState.UNKNOWN)
                    self.on_status(PrinterState.NOT_CONNECTED, exc)
                finally:
                    if printer is not None:
                        with contextlib.suppress(Exception):
                            printer.close()
            self._kick.wait(self.poll_s)
            self._kick.clear()


class DeviceRecorder(threading.Thread):
    """UI process: writes the camera and printer readings to the store every
    DEVICE_RECORD_INTERVAL_S, for a heartbeat sent by `ocop-kiosk sync` (no devices there);
    see kiosk.sync.heartbeat. A failed write (disk full) is logged and tried again."""

    def __init__(self, store, camera: Callable, printer: Callable, interval_s: float | None = None):
        super().__init__(name="device-recorder", daemon=True)
        from kiosk.sync.heartbeat import DEVICE_RECORD_INTERVAL_S

        self.store, self.camera, self.printer = store, camera, printer
        self.interval_s = DEVICE_RECORD_INTERVAL_S if interval_s is None else interval_s
        self.stop_event = threading.Event()

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        from kiosk.sync.heartbeat import read_device, record_devices

        while not self.stop_event.is_set():
            try:
                record_devices(self.store, read_device(self.camera), read_device(self.printer))
            except Exception as exc:  # noqa: BLE001 - heartbeat device states are best effort
                log.warning("device states not recorded: %s", exc)
            self.stop_event.wait(self.interval_s)


class Services:
    def __init__(self, settings: Settings, store, data_dir: Path, today: dt.date | None = None):
        self.settings = settings
        self.store = store
        self.data_dir = Path(data_dir)
        self.today = today
        self.catalog = Catalog(store, today=today)
        self.pin_gate = PinGate.from_settings(store, settings.staff)
        from kiosk.scanning import ScanService

        self.scan = ScanService(store, settings, today=today)
        self.print_queue: PrintQueue | None = None
        self.print_worker: PrintWorker | None = None
        self.printer_monitor: PrinterMonitor | None = None
        self.print_error = ""  # why printing is unavailable ("" = available)
        self._print_lock: PrintingLock | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="ui-work"
        )
        self._sync: SyncLoop | None = None
        self._printing_job = threading.Event()
        self._camera_state: Callable[[], str] | None = None
        self._camera_is_demo: Callable[[], bool] = lambda: False
        self.device_recorder: DeviceRecorder | None = None

    @classmethod
    def create(cls, settings, store, data_dir, today=None) -> Services:
        return cls(settings, store, data_dir, today)

    # --- background work ------------------------------------------------------------------

    def submit(self, fn, *args, **kwargs) -> concurrent.futures.Future:
        """Run fn on a worker thread (never the UI thread)."""
        return self._pool.submit(fn, *args, **kwargs)

    # --- printing -------------------------------------------------------------------------

    def start_printing(self, on_progress: Callable, on_printer_status: Callable) -> bool:
        """Start the print worker and the printer monitor (station mode). False, with
        self.print_error set, when another process holds the printing lock."""
        if self.print_worker is not None:
            return True
        from kiosk.printing.lock import PrinterBusy, PrintingLock
        from kiosk.printing.queue import JobState, PrintQueue, PrintWorker

        try:
            self._print_lock = PrintingLock(self.data_dir).acquire()
        except PrinterBusy as exc:
            self.print_error = str(exc)
            return False
        self.print_queue = PrintQueue(self.store, self.settings, self.data_dir, today=self.today)
        self.print_queue.recover_interrupted()

        def progress(p):
            if p.state is JobState.PRINTING:
                self._printing_job.set()
            else:
                self._printing_job.clear()
            on_progress(p)

        self.print_worker = PrintWorker(self.print_queue, on_progress=progress)
        self.print_worker.start()
        self.printer_monitor = PrinterMonitor(
            self.print_queue.printer, on_printer_status, busy=self._printing_job.is_set
        )
        self.printer_monitor.start()
        return True

    def submit_print(self, product_id: int, count: int, lot: str, dates=None) -> int:
        """dates: ocop.lots.LotDates, checked by ocop.lots.check_lot_dates first."""
        if self.print_queue is None or self.print_worker is None:
            raise RuntimeError("printing is not started (station mode only)")
        job_id = self.print_queue.submit(product_id, count=count, lot=lot, dates=dates)
        self.print_worker.kick()
        return job_id

    # --- devices, as heartbeats report them ---------------------------------------------------

    def watch_devices(
        self, camera_state: Callable[[], str], camera_is_demo: Callable[[], bool] = lambda: False
    ) -> None:
        """The app hands over its camera state (scanner CameraState value) and whether it
        shows the demo camera; from then on this process's readings are recorded for
        `ocop-kiosk sync` (DeviceRecorder)."""
        self._camera_state, self._camera_is_demo = camera_state, camera_is_demo
        if self.device_recorder is None:
            self.device_recorder = DeviceRecorder(
                self.store, self.camera_reading, self.printer_reading
            )
            self.device_recorder.start()

    def camera_reading(self):
        from kiosk.sync.heartbeat import UNWATCHED, DeviceReading
        from ocop.clock import utc_now_iso

        if self._camera_state is None:
            return UNWATCHED
        return DeviceReading(
            str(self._camera_state()), utc_now_iso(), is_demo=bool(self._camera_is_demo())
        )

    def printer_reading(self):
        """The printer monitor's last poll (it polls while the staff screen is shown), with
        its time; not_watched before the staff screen started printing."""
        from kiosk.sync.heartbeat import UNWATCHED

        monitor = self.printer_monitor
        reading = monitor.last_reading if monitor is not None else None
        return reading or UNWATCHED

    # --- sync -----------------------------------------------------------------------------

    def start_sync(self, on_status: Callable | None = None) -> bool:
        """Start kiosk.sync's SyncLoop when a registry is configured (False otherwise)."""
        if self._sync is not None or not self.settings.registry.url:
            return self._sync is not None
        from kiosk.demo.state import DemoDataError

        try:
            from kiosk.sync.engine import SyncEngine
            from kiosk.sync.loop import SyncLoop

            engine = SyncEngine(
                self.store,
                self.settings,
                self.data_dir,
                camera_state=self.camera_reading,
                printer_state=self.printer_reading,
            )
            self._sync = SyncLoop(engine, on_status=on_status)
            self._sync.start()
        except DemoDataError as exc:
            log.error("sync not started: %s", exc)
            self._sync = None
        except Exception:
            log.exception("sync could not start")
            self._sync = None
        return self._sync is not None

    def sync_status(self) -> SyncView:
        """What the staff screen shows: the running loop's status, else the stored one."""
        try:
            from kiosk.sync.status import SyncState, read_sync_status, with_trust_freshness

            status = (
                with_trust_freshness(self._sync.status, self.store.conn)
                if self._sync is not None
                else read_sync_status(self.store)
            )
            state = status.state
            if not self.settings.registry.url:
                state = SyncState.NOT_CONFIGURED
            return SyncView(
                state.value,
                status.pending_outbox,
                status.last_success_at or "",
                status.last_error,
                state.label_vi,
                state.label_en,
                state.is_failure,
            )
        except Exception as exc:  # noqa: BLE001 - the sync package missing or its state unreadable
            pending = self.store.query_one("SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0]
            return SyncView("error", pending, "", str(exc), "Lỗi đồng bộ", "Sync error", True)

    def sync_now(self) -> str:
        if self._sync is None:
            return "no_registry" if not self.settings.registry.url else "not_running"
        self._sync.trigger()
        return "started"

    # --- misc -----------------------------------------------------------------------------

    def image_path(
        self, image_hash: str | None, size: RenditionSize = RenditionSize.CARD
    ) -> Path | None:
        """The picture to show at `size`. Sync and demo set-up make renditions when they
        store a picture; one missing (stored before renditions existed, or deleted) is made
        here, so call it from a worker thread where a list asks for many."""
        if not image_hash:
            return None
        try:
            source = find_media_file(self.store.conn, self.data_dir, image_hash)
        except Exception:  # noqa: BLE001 - a missing or broken picture shows none
            return None
        if source is None:
            return None
        return ensure_rendition(self.data_dir, source, image_hash, size)

    def is_demo_data(self) -> bool:
        from kiosk.demo.state import is_demo_data

        return is_demo_data(self.store)

    def close(self) -> None:
        if self._sync is not None:
            self._sync.stop(2.0)
        threads = (self.print_worker, self.printer_monitor, self.device_recorder)
        for thread in threads:
            if thread is not None:
                thread.stop()
        for thread in threads:
            if thread is not None and thread.is_alive():
                thread.join(3.0)
        if self._print_lock is not None:
            self._print_lock.release()
        self._pool.shutdown(wait=False, cancel_futures=True)
