"""A print job left the way a crash or a dropped printer connection leaves it: some labels
printed, the next one UNCERTAIN (bytes went to the printer, no confirmation), the rest not
printed yet, the job INTERRUPTED. Written in one transaction, so a running print worker never
sees it queued.

Also prepares a data folder for the docs screenshot:

    .venv/bin/python -m tests.ui.stopped_job /tmp/shot-data
    .venv/bin/ocop-kiosk --data-dir /tmp/shot-data screenshot --live-data --screen staff \\
        --tab queue --out docs/screenshots/staff-interrupted.png
"""

from __future__ import annotations

import sys
from pathlib import Path


def make_stopped_job(
    store,
    settings,
    data_dir,
    product_id: int = 101,
    count: int = 6,
    printed: int = 3,
    uncertain: int = 1,
    lot: str = "2026-05",
) -> int:
    from kiosk.printing.queue import JobState, PrintQueue
    from kiosk.stamps.demo import load_demo_signer
    from kiosk.stamps.service import take_stamps
    from ocop.clock import utc_now_iso

    queue = PrintQueue(store, settings, data_dir)
    signer = load_demo_signer(store, Path(data_dir), settings)
    now = utc_now_iso(micros=True)
    with store.transaction() as conn:
        job_id = conn.execute(
            "INSERT INTO print_jobs(product_id, lot, count, state, printer_uri, created_at, "
            "updated_at) VALUES (?, ?, ?, 'interrupted', ?, ?, ?)",
            (product_id, lot, count, settings.printer.uri, now, now),
        ).lastrowid
        serials = [
            s.serial
            for s in take_stamps(conn, product_id, count, job_id=job_id, demo_signer=signer)
        ]
        for serial in serials[:printed]:
            queue._mark_printed(conn, job_id, serial)
        for serial in serials[printed : printed + uncertain]:
            conn.execute("UPDATE stamps SET state = 'printing' WHERE serial = ?", (serial,))
        queue._set_state(
            conn,
            job_id,
            JobState.INTERRUPTED,
            "The printer connection was lost while sending a label.",
        )
    return job_id


def main(argv: list[str]) -> int:
    from kiosk.demo.setup import set_up_demo
    from kiosk.settings import Settings
    from kiosk.store import Store

    data_dir = Path(argv[0])
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.in_dir(data_dir)
    try:
        if store.get_meta("demo") != "1":
            set_up_demo(store, data_dir)
        print(make_stopped_job(store, Settings(), data_dir))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
