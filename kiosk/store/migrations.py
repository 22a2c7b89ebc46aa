"""Schema migrations for the kiosk's local SQLite store.

Each migration is a (version, description, SQL script) triple applied in order inside one
transaction together with the `PRAGMA user_version` bump, so a failed migration leaves the
database exactly as it was. Never edit a released migration: append a new one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


_V1 = """
CREATE TABLE producers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'other',   -- company | cooperative | coop_group | household | other
    commune     TEXT NOT NULL DEFAULT '',
    district    TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',
    phone       TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

-- Content-addressed media: `hash` is the SHA-256 of the file bytes; the file lives at
-- <data_dir>/media/<hash[:2]>/<hash>.<ext>.
CREATE TABLE media (
    hash        TEXT PRIMARY KEY CHECK (length(hash) = 64),
    mime        TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
    origin      TEXT NOT NULL DEFAULT 'registry'  -- registry | demo_placeholder
);

CREATE TABLE products (
    id              INTEGER PRIMARY KEY CHECK (id > 0 AND id < 16777216),
    gtin            TEXT UNIQUE CHECK (gtin IS NULL OR length(gtin) IN (8, 12, 13, 14)),
    name_vi         TEXT NOT NULL,
    name_en         TEXT NOT NULL DEFAULT '',
    group_code      INTEGER NOT NULL CHECK (group_code BETWEEN 1 AND 6),  -- Decision 148 groups
    subgroup        TEXT NOT NULL DEFAULT '',
    description_vi  TEXT NOT NULL DEFAULT '',
    description_en  TEXT NOT NULL DEFAULT '',
    story_vi        TEXT NOT NULL DEFAULT '',
    story_en        TEXT NOT NULL DEFAULT '',
    commune         TEXT NOT NULL DEFAULT '',   -- current commune (after the July 2025 merger)
    district        TEXT NOT NULL DEFAULT '',   -- historical district (before July 2025)
    producer_id     TEXT NOT NULL REFERENCES producers(id),
    image_hash      TEXT REFERENCES media(hash),
    featured        INTEGER NOT NULL DEFAULT 0 CHECK (featured IN (0, 1)),
    is_demo         INTEGER NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
    search_text     TEXT NOT NULL DEFAULT '',   -- diacritic-folded, lower-case; see ocop.text
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX products_district ON products(district, group_code);
CREATE INDEX products_group ON products(group_code);

-- Full-text index over the folded text; kept in step by triggers so every writer (demo
-- init, sync, tests) gets search for free.
CREATE VIRTUAL TABLE products_fts USING fts5(
    search_text, content='products', content_rowid='id', tokenize='unicode61'
);
CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN
    INSERT INTO products_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER products_au AFTER UPDATE OF search_text ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    INSERT INTO products_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE TABLE ratings (
    id              INTEGER PRIMARY KEY,
    product_id      INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    stars           INTEGER CHECK (stars IS NULL OR stars BETWEEN 1 AND 5),  -- NULL: level pending
    level           TEXT NOT NULL DEFAULT '',   -- district | province | national
    body            TEXT NOT NULL DEFAULT '',   -- deciding body
    decision_no     TEXT NOT NULL DEFAULT '',
    recognised_on   TEXT,                        -- YYYY-MM-DD
    valid_until     TEXT,                        -- recognised_on + 36 months unless stated
    status          TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'expired', 'revoked')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX ratings_product ON ratings(product_id, recognised_on);

CREATE TABLE lots (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    produced_on TEXT,
    best_before TEXT,
    UNIQUE (product_id, code)
);

-- Every stamp scanned at this kiosk. Written in the same transaction as its outbox row.
CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    scanned_at  TEXT NOT NULL,
    text        TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    product_id  INTEGER,
    serial      INTEGER,
    key_id      INTEGER,
    source      TEXT NOT NULL DEFAULT 'camera'   -- camera | cli | test
);
CREATE INDEX scans_serial ON scans(serial);

-- Everything that must reach the registry. `idempotency_key` is generated when the row is
-- written, so a resend after a crash between send and acknowledgement is recognised.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('scan', 'print', 'heartbeat')),
    idempotency_key TEXT NOT NULL UNIQUE,
    payload_json    TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    sent_at         TEXT
);
CREATE INDEX outbox_pending ON outbox(sent_at, id);

-- Blocks of pre-signed stamps the registry issued to this station for one product.
CREATE TABLE stamp_blocks (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL,
    first_serial INTEGER NOT NULL,
    last_serial INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'registry'   -- registry | demo
);

-- One row per pre-signed stamp held by this station. A serial leaves 'available' once and
-- never returns to it: that is what guarantees no serial is printed for two jobs.
CREATE TABLE stamps (
    serial      INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL,
    key_id      INTEGER NOT NULL,
    issued_on   TEXT NOT NULL,
    text        TEXT NOT NULL UNIQUE,
    block_id    INTEGER REFERENCES stamp_blocks(id),
    state       TEXT NOT NULL DEFAULT 'available'
                CHECK (state IN ('available', 'reserved', 'printing', 'printed', 'void')),
    job_id      INTEGER REFERENCES print_jobs(id),
    printed_at  TEXT
);
CREATE INDEX stamps_available ON stamps(product_id, state, serial);

CREATE TABLE print_jobs (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL,
    lot         TEXT NOT NULL DEFAULT '',
    count       INTEGER NOT NULL CHECK (count > 0),
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'printing', 'done', 'failed', 'interrupted')),
    printer_uri TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- The newest verified trust list (signed by the pinned root), stored verbatim so it can be
-- re-verified at every start.
CREATE TABLE trust_lists (
    id          INTEGER PRIMARY KEY,
    sequence    INTEGER NOT NULL UNIQUE,
    signed_json TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- Key/value sync state: cursors, last success, last error.
CREATE TABLE sync_state (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);

-- Key/value facts about this data dir: demo flag, created_at, station name.
CREATE TABLE meta (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);
"""  # noqa: E501 - a released migration is never edited (its text is in sqlite_master)

# A lot's optional dates (ocop/lots.py), ISO YYYY-MM-DD or NULL: kept with the job so the
# label, the print record and a resumed job all say the same.
_V2 = """
ALTER TABLE print_jobs ADD COLUMN produced_on TEXT;
ALTER TABLE print_jobs ADD COLUMN best_before TEXT;
"""

# The lots of stamps printed anywhere (sync protocol 3, GET /lots/changes), as serial
# ranges that never overlap (kiosk/lots.py splits an older range a newer one covers), so a
# kiosk that did not print a stamp still shows its lot. lot '' = printed without a lot.
_V3 = """
CREATE TABLE lot_ranges (
    first_serial INTEGER PRIMARY KEY,
    last_serial  INTEGER NOT NULL CHECK (last_serial >= first_serial),
    product_id   INTEGER NOT NULL,
    lot          TEXT NOT NULL DEFAULT '',
    produced_on  TEXT,
    best_before  TEXT
);
CREATE INDEX lot_ranges_last ON lot_ranges(last_serial);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _V1),
    Migration(2, "lot dates on print jobs", _V2),
    Migration(3, "lots of stamps printed elsewhere", _V3),
)

LATEST_VERSION = MIGRATIONS[-1].version
