"""A committed write survives kill -9 of the writing process."""

import os
import signal
import subprocess
import sys
import textwrap

from kiosk.store import Store

WRITER = textwrap.dedent("""
    import sys, time
    from kiosk.store import Store
    store = Store(sys.argv[1])
    n = 0
    while True:
        with store.transaction() as conn:
            conn.execute("INSERT INTO outbox(kind, idempotency_key, payload_json, created_at) "
                         "VALUES ('scan', ?, '{}', 'now')", (f"k{n}",))
        n += 1
        print(n, flush=True)   # printed only after COMMIT returned
        time.sleep(0.002)
""")


def test_committed_rows_survive_kill_9(data_dir):
    path = data_dir / "kiosk.sqlite"
    Store(path).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    acknowledged = 0
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 50:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Store(path)
    rows = store.query_one("SELECT count(*) FROM outbox")[0]
    assert rows >= acknowledged  # every acknowledged commit is there
    assert store.integrity_check() == "ok"
    keys = {r[0] for r in store.query("SELECT idempotency_key FROM outbox")}
    assert {f"k{i}" for i in range(acknowledged)} <= keys
    store.close()
