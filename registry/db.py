"""Registry database: SQLAlchemy Core tables, one code path for SQLite and PostgreSQL.

Cursors. Every catalog row (producer, product, media, tombstone) carries `seq`, taken from
the single counter row 'change_seq' inside the writing transaction. Updating that row locks
it until commit (PostgreSQL row lock; SQLite has one writer anyway), so sequence numbers
become visible in commit order: a reader that has seen seq N will never later find a newly
committed row with seq <= N. A pull reads everything in one snapshot (REPEATABLE READ on
PostgreSQL, one read transaction on SQLite).

Transactions: `Database.write()` takes the write lock up front on SQLite (BEGIN IMMEDIATE),
so two writers never deadlock on a lock upgrade; `Database.read()` is a snapshot.

Read replica (serve --read-db): a PostgreSQL streaming standby for reads that may lag the
primary by the replication delay (the stamp page, the reports): `snapshot(replica=True)`
and `read(replica=True)`. Once the replica cannot be reached those reads go to the
primary, and a background probe tries it every REPLICA_RETRY_S (ReadReplica). Writes, and reads
that must see what was just written (sign-in, the kiosk API, the console's forms), always
use the primary.

Numbers taken as "one above the highest in a table" (trust-list sequences, signing-key ids)
come from allocate_next(), which first takes that allocator's lock (Allocator): on
PostgreSQL's READ COMMITTED two writers would otherwise both read the same max() and one
would fail on the primary key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import logging
import select
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Connection, Engine

from ocop.errors import UserError
from registry import partitions
from registry.config import DEFAULT_QUOTA_PER_DAY, DEFAULT_QUOTA_TOTAL
from registry.migrations import upgrade

log = logging.getLogger("registry.db")
RAISED = "ocop_raised_mark"  # Connection.info flag: this transaction raised a counter

# An auto-incrementing 64-bit key: BIGINT on PostgreSQL, INTEGER PRIMARY KEY on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

producers = Table(
    "producers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False, server_default="other"),
    Column("commune", Text, nullable=False, server_default=""),
    Column("district", Text, nullable=False, server_default=""),
    Column("address", Text, nullable=False, server_default=""),
    Column("phone", String(32), nullable=False, server_default=""),
    Column("updated_at", String(20), nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
    # Schema 10 (the console): ocop.text.fold(name) for search; the office's contact person
    # (office-only, not sent to kiosks).
    Column("search_fold", Text, nullable=False, server_default=""),
    Column("contact_person", Text, nullable=False, server_default=""),
)

media = Table(
    "media",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("mime", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", String(20), nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("gtin", String(14), unique=True, nullable=True),
    Column("name_vi", Text, nullable=False),
    Column("name_en", Text, nullable=False, server_default=""),
    Column("group_code", Integer, nullable=False),
    Column("subgroup", Text, nullable=False, server_default=""),
    Column("description_vi", Text, nullable=False, server_default=""),
    Column("description_en", Text, nullable=False, server_default=""),
    Column("story_vi", Text, nullable=False, server_default=""),
    Column("story_en", Text, nullable=False, server_default=""),
    Column("commune", Text, nullable=False, server_default=""),
    Column("district", Text, nullable=False, server_default=""),
    Column("producer_id", String(64), ForeignKey("producers.id"), nullable=False),
    Column("image_hash", String(64), ForeignKey("media.hash"), nullable=True),
    Column("featured", Boolean, nullable=False, server_default=sa.false()),
    Column("is_demo", Boolean, nullable=False, server_default=sa.false()),
    Column("updated_at", String(20), nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
    # Schema 10: ocop.text.fold("name_vi name_en"), what the console's search matches and
    # its list is ordered by (the index: a page is read in order, not sorted).
    Column("search_fold", Text, nullable=False, server_default=""),
    Index("products_search_fold", "search_fold", "id"),
)

ratings = Table(
    "ratings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "product_id",
        Integer,
        ForeignKey("products.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("position", Integer, nullable=False),
    Column("stars", Integer, nullable=True),
    Column("level", String(16), nullable=False, server_default=""),
    Column("body", Text, nullable=False, server_default=""),
    Column("decision_no", Text, nullable=False, server_default=""),
    Column("recognised_on", String(10), nullable=True),
    Column("valid_until", String(10), nullable=True),
    Column("status", String(10), nullable=False, server_default="valid"),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("kind", String(16), primary_key=True),  # product | producer
    Column("entity_id", String(64), primary_key=True),
    Column("deleted_at", String(20), nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
)

stations = Table(
    "stations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("district", Text, nullable=False, server_default=""),
    Column("created_at", String(20), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=sa.false()),
    Column("last_seen_at", String(20), nullable=True),
    # Superseded by station_heartbeats (schema 1 databases have it; no longer written).
    Column("last_heartbeat_json", Text, nullable=True),
    # ocop.stations.StationRole; a new station is a kiosk (never mints) until the office
    # makes it a printing station (registry/stations.py).
    Column("role", String(16), nullable=False, server_default="kiosk"),
    # Stamps a printing station may receive per Vietnam day and in all; NULL = no limit
    # (only ever set explicitly by the office).
    Column("quota_per_day", Integer, nullable=True, server_default=str(DEFAULT_QUOTA_PER_DAY)),
    Column("quota_total", BigInteger, nullable=True, server_default=str(DEFAULT_QUOTA_TOTAL)),
    # Set once by retire (which also sets disabled): final, the station cannot be enabled.
    Column("retired_at", String(20), nullable=True),
)

# What a printing station may stamp: producers (every product of theirs) and single products.
# kind is registry.stations.BindingKind; ref a producer id or a product id in decimal.
station_bindings = Table(
    "station_bindings",
    metadata,
    Column(
        "station_id", BigInteger, ForeignKey("stations.id"), primary_key=True, autoincrement=False
    ),
    Column("kind", String(16), primary_key=True),
    Column("ref", String(64), primary_key=True),
)

# Refused stamp-block requests (ocop.stations.BlockRefusal), one row per station, Vietnam day,
# reason and product, counting the attempts: an alert on the reports page that a token is
# being used beyond its authority, and a table that cannot be flooded.
station_alerts = Table(
    "station_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", BigInteger, ForeignKey("stations.id"), nullable=False),
    Column("day", String(10), nullable=False, index=True),
    Column("reason", String(32), nullable=False),
    Column("product_id", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("stamps_asked", BigInteger, nullable=False),
    Column("first_at", String(20), nullable=False),
    Column("last_at", String(20), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    UniqueConstraint("station_id", "day", "reason", "product_id", name="station_alerts_once"),
)

# The newest heartbeat of each station: one row per station, replaced by every heartbeat
# (heartbeats are not kept in `events`: one a round per kiosk would grow it for nothing).
# received_at is the registry's clock: what "silent for ..." is measured on.
station_heartbeats = Table(
    "station_heartbeats",
    metadata,
    Column(
        "station_id", BigInteger, ForeignKey("stations.id"), primary_key=True, autoincrement=False
    ),
    Column("idempotency_key", String(100), nullable=False),
    Column("sent_at", String(32), nullable=False),  # the kiosk's `at`
    Column("received_at", String(20), nullable=False),
    Column("payload_json", Text, nullable=False),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=False),
    Column("public_key", String(64), nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_until", String(10), nullable=True),
    Column("created_at", String(20), nullable=False),
)

revoked_ranges = Table(
    "revoked_ranges",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("first_serial", BigInteger, nullable=False),
    Column("last_serial", BigInteger, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", String(20), nullable=False),
)

revoked_keys = Table(
    "revoked_keys",
    metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=False),
    Column("revoked_from", String(10), nullable=False),
    Column("last_good_serial", BigInteger, nullable=True),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", String(20), nullable=False),
)

suspect_serials = Table(
    "suspect_serials",
    metadata,
    Column("serial", BigInteger, primary_key=True, autoincrement=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", String(20), nullable=False),
)

trust_lists = Table(
    "trust_lists",
    metadata,
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("signed_json", Text, nullable=False),
    Column("created_at", String(20), nullable=False),
)

# Issue 14, root offline: the root's delegations of list signing (the list-signing private
# key is a file in <data>/keys/, named by its public key's fingerprint) and the chain of
# root successions every trust list envelope carries.
delegations = Table(
    "delegations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("list_public_key", String(64), nullable=False),
    Column("valid_until", String(20), nullable=False),
    Column("signed_json", Text, nullable=False),  # {"delegation": ..., "signature": ...}
    Column("created_at", String(20), nullable=False),
)

root_successions = Table(
    "root_successions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("new_root_public_key", String(64), nullable=False),
    Column("signed_json", Text, nullable=False),  # {"succession": ..., "signature": ...}
    Column("created_at", String(20), nullable=False),
)

stamp_blocks = Table(
    "stamp_blocks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", BigInteger, ForeignKey("stations.id"), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("product_id", Integer, nullable=False),
    Column("key_id", Integer, nullable=False),
    Column("issued_on", String(10), nullable=False),
    Column("first_serial", BigInteger, nullable=False, index=True),
    Column("last_serial", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("created_at", String(20), nullable=False),
    # Issue 17: the serial range is reserved in one short transaction, signed outside it and
    # the reply stored in a second one (the exact JSON body, gzipped), so a retried request
    # gets the same bytes, never signed again. NULL: being signed, by whoever holds the lease
    # (signing_until, UTC); a request after the lease ran out takes it over. Blocks from
    # before have neither and are signed from the row when asked again.
    Column("reply_body", LargeBinary, nullable=True),
    Column("signing_until", String(20), nullable=True),
    # Retention (registry/retention.py): the stored reply is dropped block_reply_keep_days
    # after the block was issued (about 80 bytes a stamp); from then on a retry of the
    # request is answered 410 with the block's range, never signed again. When it was.
    Column("reply_dropped_at", String(20), nullable=True),
    UniqueConstraint("station_id", "request_id", name="stamp_blocks_request"),
)

# Issue 17: the online private keys (stamp signing "signing-<id>", list signing
# "list-<fingerprint>") wrapped with the KEK (registry/kek.py) when one is configured, so
# every process and host shares them; meta 'kek_id' names the KEK they need. Without a KEK
# they are files in <data>/keys/ and this table is empty.
private_keys = Table(
    "private_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("kek_id", String(32), nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", String(20), nullable=False),
)

# Rate limits shared by every process and host on PostgreSQL (registry/ratelimit.py): one
# row per (limit, client) and fixed window, written by one INSERT ... ON CONFLICT DO UPDATE
# with the database's clock (now()), so workers agree and skewed hosts do not matter. Rows
# whose window and lockout ended (expires_at) are deleted as rows are written and by
# `prune` (registry/retention.py); on SQLite (one process) the limits stay in memory.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("scope", String(16), primary_key=True),  # registry.ratelimit.Scope
    Column("client", String(100), primary_key=True),
    Column("window_start", sa.DateTime(timezone=True), nullable=False),
    Column("hits", Integer, nullable=False),
    Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# Each station's heartbeats of one UTC day (of received_at), summed up as they arrive: how
# many, the extremes of the numbers the office watches and the last device states. With
# station_heartbeats (the newest one whole) this is all that is kept of heartbeats.
station_heartbeat_days = Table(
    "station_heartbeat_days",
    metadata,
    Column(
        "station_id", BigInteger, ForeignKey("stations.id"), primary_key=True, autoincrement=False
    ),
    Column("day", String(10), primary_key=True),
    Column("heartbeats", Integer, nullable=False),
    Column("first_received_at", String(20), nullable=False),
    Column("last_received_at", String(20), nullable=False),
    Column("min_disk_free_bytes", BigInteger, nullable=True),
    Column("max_pending_outbox", Integer, nullable=True),
    Column("max_pending_outbox_oldest_age_s", BigInteger, nullable=True),
    Column("max_trust_list_age_s", BigInteger, nullable=True),
    Column("min_uptime_s", BigInteger, nullable=True),  # a restart that day: small
    Column("last_camera", String(32), nullable=True),
    Column("last_printer", String(32), nullable=True),
    Column("last_paper", String(32), nullable=True),
    Column("last_clock_state", String(32), nullable=True),
    Column("last_app_version", String(64), nullable=True),
)

# The idempotency keys of accepted scans and print records: (station, key) is the primary
# key, so a resend after a crash between send and acknowledgement is a duplicate. Apart from
# `events` because PostgreSQL partitions events by month, and a partitioned table has no
# unique index without its partition key; inserted in the same transaction as the event
# (INSERT ... ON CONFLICT DO NOTHING RETURNING says which keys are new). Kept when raw scans
# are archived (registry/archive.py), so exactly-once outlives the rows.
event_keys = Table(
    "event_keys",
    metadata,
    Column(
        "station_id", BigInteger, ForeignKey("stations.id"), primary_key=True, autoincrement=False
    ),
    Column("idempotency_key", String(100), primary_key=True),
)

# Scans and print records uploaded by stations (their keys: event_keys). On PostgreSQL a
# partitioned table (registry/partitions.py): by kind, scans again by month of `day`; on
# SQLite one table.
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", BigInteger, ForeignKey("stations.id"), nullable=False),
    Column("idempotency_key", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("occurred_at", String(32), nullable=False),
    Column("day", String(10), nullable=False),
    Column("received_at", String(20), nullable=False),
    Column("serial", BigInteger, nullable=True),
    Column("product_id", Integer, nullable=True),
    Column("verdict", String(32), nullable=True),
    Column("payload_json", Text, nullable=False),
    # Schema 5: a scan's key id, from the stamp the registry verified (None before).
    Column("key_id", Integer, nullable=True),
    # Schema 7: a print record's place in the lots feed (counter 'lot_seq', taken in the
    # writing transaction like change_seq: visible in commit order); None for other kinds.
    Column("lot_seq", BigInteger, nullable=True),
    Index("events_kind_serial", "kind", "serial"),
    Index("events_kind_day", "kind", "day"),
    Index("events_lot_seq", "lot_seq"),
)

# Every admin and station-lifecycle operation: who (an admin's name, "cli:<user>" for the
# command line), what (registry.audit.AuditAction), on what, when, from where. Append-only.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", String(20), nullable=False, index=True),
    Column("actor", String(100), nullable=False),
    Column("action", String(48), nullable=False),
    Column("target", Text, nullable=False, server_default=""),
    Column("client", String(100), nullable=False, server_default=""),
    Column("detail_json", Text, nullable=False, server_default="{}"),
)

# Named admin credentials (registry/admins.py): like stations, the token is stored as its
# SHA-256 only; role is an AdminRole value; a disabled admin's token is refused.
admins = Table(
    "admins",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(20), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=sa.false()),
    Column("last_used_at", String(20), nullable=True),
)

# The office console's accounts (registry/users.py): a person signs in with a password
# (argon2id hash); role is an AdminRole value, shared with the bearer-token admins. After
# too many failed sign-ins the account is locked until locked_until.
users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", Text, nullable=False, server_default=""),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("password_changed_at", String(20), nullable=False),
    Column("created_at", String(20), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=sa.false()),
    Column("failed_sign_ins", Integer, nullable=False, server_default="0"),
    Column("locked_until", String(20), nullable=True),
    Column("last_sign_in_at", String(20), nullable=True),
)

# Signed-in console sessions (registry/sessions.py): the cookie's random id is stored as
# its SHA-256 only; sign-out deletes the row, disabling the user deletes all of theirs.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("created_at", String(20), nullable=False),
    Column("last_seen_at", String(20), nullable=False),
    Column("client", String(100), nullable=False, server_default=""),
    Index("console_sessions_user", "user_id"),
)

# Upload items the registry refused (ocop.wire.Refusal), one row each: the station's
# anomaly count, and the answer to a resend (same (station, key): same reason, counted once).
upload_refusals = Table(
    "upload_refusals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", BigInteger, ForeignKey("stations.id"), nullable=False),
    Column("idempotency_key", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("error", Text, nullable=False),
    Column("serial", BigInteger, nullable=True),  # what the item claimed, for the office
    Column("received_at", String(20), nullable=False),
    Column("day", String(10), nullable=False),  # of received_at
    UniqueConstraint("station_id", "idempotency_key", name="upload_refusals_idempotency"),
    Index("upload_refusals_day", "day"),
)

# Views of the public stamp page for a verified stamp: at most one per serial, client and
# hour. client_hash is HMAC-SHA256(that day's salt, address + User-Agent); the salt is
# deleted the next day, so hashes cannot be linked across days.
stamp_views = Table(
    "stamp_views",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("serial", BigInteger, nullable=False),
    Column("client_hash", String(64), nullable=False),
    Column("hour", String(13), nullable=False),  # YYYY-MM-DDTHH, UTC
    Column("day", String(10), nullable=False),
    Column("viewed_at", String(20), nullable=False),
    UniqueConstraint("serial", "client_hash", "hour", name="stamp_views_once_an_hour"),
)

# Shoppers' reports of a bad stamp, from the phone page's form (registry/public_reports.py).
# verdict: the registry's own verdict of the stamp when the report came; token_nonce: the
# form token's nonce, unique, so a token is used once; client_network / client_agent: coarse
# (a /24 or /48 network, an OS and browser family), never the address itself.
stamp_reports = Table(
    "stamp_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("serial", BigInteger, nullable=True),  # None: the code carries no trusted serial
    Column("code", String(320), nullable=False),  # the stamp text's payload, as reported
    Column("verdict", String(32), nullable=False),
    Column("problem", String(16), nullable=False),
    Column("where_bought", String(200), nullable=False),
    Column("phone", String(20), nullable=True),
    Column("callback_consent", Boolean, nullable=False),
    Column("lang", String(2), nullable=False),
    Column("client_network", String(64), nullable=False),
    Column("client_agent", String(64), nullable=False),
    Column("token_nonce", String(32), nullable=False),
    Column("reported_at", String(20), nullable=False),
    Column("day", String(10), nullable=False),
    UniqueConstraint("token_nonce", name="stamp_reports_token_once"),
    Index("stamp_reports_day", "day"),
    Index("stamp_reports_serial", "serial"),
)

view_salts = Table(
    "view_salts",
    metadata,
    Column("day", String(10), primary_key=True),  # UTC day the salt hashes clients for
    Column("salt", String(64), nullable=False),  # hex
    Column("created_at", String(20), nullable=False),
)

# Clone detections (registry/clones.py): one per serial and rule. status: pending (waits
# for the office), published (on the trust list's suspect list), dismissed.
clone_detections = Table(
    "clone_detections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("serial", BigInteger, nullable=False),
    Column("rule", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("detected_at", String(20), nullable=False),
    Column("decided_at", String(20), nullable=True),
    Column("decided_by", String(64), nullable=True),
    UniqueConstraint("serial", "rule", name="clone_detections_serial_rule"),
    Index("clone_detections_status", "status"),
)

# Daily counts of the stored events (registry/aggregates.py), kept in the transaction that
# stores them, so the reports read these small tables and never the raw events. One table
# per report query: a grain with every dimension at once would have about as many rows as
# there are scans. `day` is events.day; '' stands for a NULL verdict (NULL never conflicts).
event_counts_daily = Table(
    "event_counts_daily",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("verdict", String(32), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# Scans with a product id (any verdict), per day and product.
scan_counts_product_daily = Table(
    "scan_counts_product_daily",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("product_id", Integer, primary_key=True, autoincrement=False),
    Column("count", BigInteger, nullable=False),
)

# Scans per day and scanning station (its district is read from `stations` at report time,
# as the query over raw events did).
scan_counts_station_daily = Table(
    "scan_counts_station_daily",
    metadata,
    Column("day", String(10), primary_key=True),
    Column(
        "station_id", BigInteger, ForeignKey("stations.id"), primary_key=True, autoincrement=False
    ),
    Column("count", BigInteger, nullable=False),
)

# The same two counts per month (`month` = the day's first 7 characters, YYYY-MM): a 365-day
# report reads 11 or 12 months of these plus the days of its partial months.
scan_counts_product_monthly = Table(
    "scan_counts_product_monthly",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("product_id", Integer, primary_key=True, autoincrement=False),
    Column("count", BigInteger, nullable=False),
)

scan_counts_station_monthly = Table(
    "scan_counts_station_monthly",
    metadata,
    Column("month", String(7), primary_key=True),
    Column(
        "station_id", BigInteger, ForeignKey("stations.id"), primary_key=True, autoincrement=False
    ),
    Column("count", BigInteger, nullable=False),
)

COUNTER_NAMES = ("change_seq", "serial", "lot_seq")


TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # every *_at column the registry writes itself


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> dt.datetime:
    """A TIME_FORMAT value (UTC) as an aware datetime."""
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


SNAPSHOT = "ocop_snapshot"  # execution option of Database.snapshot's connections
POOL_RECYCLE_S = 15 * 60


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file or a PostgreSQL URL (psycopg 3)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if is_sqlite_url(url):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            if conn.get_execution_options().get(SNAPSHOT, False):
                return  # Database.snapshot: each statement on its own (autocommit)
            write = conn.get_execution_options().get("ocop_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    # No pre-ping: it was one more round trip before every transaction. Connections are
    # replaced after POOL_RECYCLE_S instead (below any idle timeout a proxy or the server
    # applies), and one that died anyway (a PostgreSQL restart) fails its first statement
    # with a disconnect error: SQLAlchemy then drops every pooled connection, and the
    # request paths kiosks depend on retry once (is_disconnect).
    return sa.create_engine(url, pool_pre_ping=False, pool_recycle=POOL_RECYCLE_S)


# Read replica: connect timeout (libpq's least: a host that drops packets must not hold a
# request longer); how long unacknowledged data may wait before the connection is dropped
# (a host gone in the middle of a statement: without it TCP retries for many minutes); how
# long a replica that failed is left before it is tried again; how often a warning is
# repeated while it stays down.
REPLICA_CONNECT_TIMEOUT_S = 2
REPLICA_TCP_USER_TIMEOUT_MS = 10_000
REPLICA_RETRY_S = 5.0
REPLICA_WARN_EVERY_S = 60.0
REPLICA_START_WAIT_S = 10.0  # serve's start: for the standby to replay a new database


def make_replica_engine(url: str) -> Engine:
    """The read replica's engine: short timeouts, and a pooled connection whose server has
    gone (the standby stopped or restarted: it sent its goodbye and closed) is found at
    checkout without a round trip (`_idle_socket_alive`), so the read falls back to the
    primary instead of failing on its first statement."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = sa.create_engine(
        url,
        pool_pre_ping=False,
        pool_recycle=POOL_RECYCLE_S,
        connect_args={
            "connect_timeout": REPLICA_CONNECT_TIMEOUT_S,
            "tcp_user_timeout": REPLICA_TCP_USER_TIMEOUT_MS,
        },
    )

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, _record, _proxy):
        if not _idle_socket_alive(dbapi_conn):
            raise sa.exc.DisconnectionError("the read replica closed this connection")

    return engine


def _idle_socket_alive(dbapi_conn) -> bool:
    """An idle PostgreSQL connection has nothing to read: a readable socket means the server
    sent something unasked (a FATAL at shutdown, EOF), i.e. the connection is dead or
    dying. No round trip; a false alarm only costs a new connection."""
    if getattr(dbapi_conn, "closed", False) or getattr(dbapi_conn, "broken", False):
        return False
    try:
        readable, _, _ = select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError, AttributeError):
        return False
    return not readable


class ReadReplica:
    """The replica's engine and whether it is up (per process, thread-safe). Once it
    failed, requests read the primary and never wait for it: every REPLICA_RETRY_S one
    background probe connects, and reads go back to the replica when one succeeds (the
    stamp page runs its statement on the event loop: a connect attempt there would stall
    every request of the process)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_replica_engine(url)
        self._lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0  # time.monotonic() of the next probe while down
        self._probing = False
        self._warned_at = 0.0  # last warning while down
        self.fallbacks = 0  # reads sent to the primary instead (this process)

    @property
    def down(self) -> bool:
        return self._down

    def connect(self) -> Connection | None:
        """A connection to the replica, or None: the caller reads the primary."""
        with self._lock:
            if self._down:
                self.fallbacks += 1
                now = time.monotonic()
                if now >= self._retry_at and not self._probing:
                    self._probing = True
                    threading.Thread(target=self._probe, name="replica-probe", daemon=True).start()
                if now - self._warned_at >= REPLICA_WARN_EVERY_S:
                    self._warned_at = now
                    log.warning(
                        "read replica still unreachable: %d reads went to the primary",
                        self.fallbacks,
                    )
                return None
        try:
            return self.engine.connect()
        except sa.exc.DBAPIError as exc:
            self.failed(exc)
            with self._lock:
                self.fallbacks += 1
            return None

    def failed(self, exc: BaseException) -> None:
        """The replica failed (at connect, or a statement lost its connection): reads go to
        the primary until a probe succeeds."""
        with self._lock:
            self._retry_at = time.monotonic() + REPLICA_RETRY_S
            if self._down:
                return
            self._down, self._warned_at = True, time.monotonic()
        text = str(exc).strip()
        log.warning(
            "read replica unreachable, reading from the primary (tried again every %.0f s): %s",
            REPLICA_RETRY_S,
            text.splitlines()[0] if text else type(exc).__name__,
        )

    def _probe(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError:
            with self._lock:
                self._retry_at = time.monotonic() + REPLICA_RETRY_S
                self._probing = False
            return
        with self._lock:
            self._down = self._probing = False
        log.warning("read replica reachable again: reads go to it")


class ReplicaMismatch(UserError):
    """--read-db names a database that is not a standby of --db."""


def is_disconnect(exc: BaseException) -> bool:
    """A statement failed because its pooled connection was dead (the pool is invalidated):
    the transaction rolled back with it, running it again on a new connection is safe."""
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


class Database:
    """Engine plus the two kinds of transaction the registry uses."""

    def __init__(self, url: str, read_url: str = ""):
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # serve --read-db (PostgreSQL only, registry/config.py read_db_problems)
        self.replica = ReadReplica(read_url) if read_url else None
        # Called after a write transaction that raised a counter or published a trust list
        # committed (registry/epoch.py keeps the high-water mark with it); None = nothing.
        self.after_raise: Callable[[], None] | None = None

    @contextlib.contextmanager
    def write(self, raises_mark: bool = True) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(ocop_write=True)
            conn.info.pop(RAISED, None)
            try:
                with conn.begin():
                    yield conn
            finally:
                raised = conn.info.pop(RAISED, False)
        # Only after the commit (a rollback raised nothing): see registry/epoch.py for why
        # a crash between the commit and this call is safe.
        if raised and raises_mark and self.after_raise is not None:
            try:
                self.after_raise()
            except Exception:  # the commit stands; the next start raises the mark
                log.exception("high-water mark not updated")

    @contextlib.contextmanager
    def _reader(self, replica: bool) -> Iterator[Connection]:
        """A connection for reads: the replica's when asked for and reachable, else the
        primary's. A replica connection lost mid-read marks the replica down (the request
        fails; the next ones read the primary)."""
        conn = self.replica.connect() if replica and self.replica is not None else None
        if conn is None:
            with self.engine.connect() as conn:
                yield conn
            return
        try:
            with conn:
                yield conn
        except sa.exc.DBAPIError as exc:
            if is_disconnect(exc) and self.replica is not None:
                self.replica.failed(exc)
            raise

    @contextlib.contextmanager
    def read(self, replica: bool = False) -> Iterator[Connection]:
        """A snapshot (REPEATABLE READ on PostgreSQL, allowed on a hot standby too).
        replica=True: from the read replica when there is one and it answers; only for
        reads that may lag the primary (never before a write, never to show what the same
        user just wrote)."""
        with self._reader(replica) as conn:
            if not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def snapshot(self, replica: bool = False) -> Iterator[Connection]:
        """A connection for reads whose every statement is consistent on its own (the stamp
        page's one SELECT): autocommit, no BEGIN / COMMIT (round trips on PostgreSQL).
        replica=True: as read()."""
        with self._reader(replica) as conn:
            if self.is_sqlite:  # pysqlite with isolation_level None: autocommit already
                conn = conn.execution_options(**{SNAPSHOT: True})
            else:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    def check_replica(self) -> None:
        """serve's start: a reachable --read-db must be a standby (in recovery) of this
        very database (same registry_id), else ReplicaMismatch. An unreachable one is only
        warned about: reads go to the primary until it answers."""
        if self.replica is None:
            return
        with self.read() as conn:
            registry_id = get_meta(conn, "registry_id")
        deadline = time.monotonic() + REPLICA_START_WAIT_S
        while True:
            try:
                standby, theirs = self._replica_identity()
            except sa.exc.DBAPIError as exc:
                self.replica.failed(exc)
                return
            if not standby:
                raise ReplicaMismatch(
                    "the read replica is not a standby (pg_is_in_recovery() is false): point "
                    "--read-db at a streaming replica of --db, or leave it out"
                )
            if theirs == registry_id:
                return
            if theirs is not None or time.monotonic() > deadline:
                raise ReplicaMismatch(
                    f"the read replica holds another database (registry id {theirs or 'none'}"
                    f", the primary's is {registry_id}): is --read-db a standby of --db, "
                    f"with the same database name?"
                )
            time.sleep(0.2)  # a new database the standby has not replayed yet

    def _replica_identity(self) -> tuple[bool, str | None]:
        """(in recovery, its registry_id or None) of the replica."""
        assert self.replica is not None
        with self.replica.engine.connect() as conn:
            standby = bool(conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar())
            try:
                theirs = conn.execute(
                    sa.select(meta.c.value).where(meta.c.key == "registry_id")
                ).scalar()
            except sa.exc.ProgrammingError:  # no meta table (yet)
                theirs = None
        return standby, theirs

    def migrate(self) -> None:
        """Bring the schema to the newest migration (registry/migrations: creates it in an
        empty database, adopts one made before migrations), then the rows every registry
        needs: the counters and registry_id. Idempotent; MigrationError for a database this
        code cannot run on."""
        upgrade(self.engine)
        with self.write() as conn:
            # PostgreSQL: this month's and the next months' scan partitions exist before
            # the first upload of them.
            partitions.ensure_partitions(conn)
            for name in COUNTER_NAMES:
                if (
                    conn.execute(sa.select(counters.c.value).where(counters.c.name == name)).first()
                    is None
                ):
                    conn.execute(counters.insert().values(name=name, value=0))
            if get_meta(conn, "registry_id") is None:
                # Names this database: a kiosk whose cursor came from another registry
                # database starts again from 0 instead of trusting a foreign cursor.
                set_meta(conn, "registry_id", uuid.uuid4().hex)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica is not None:
            self.replica.engine.dispose()


class UnsupportedDialect(RuntimeError):
    """The registry speaks SQLite and PostgreSQL only."""


def _dialect_insert(db_or_conn, table: Table):
    """The dialect's INSERT (it has on_conflict_do_nothing / on_conflict_do_update)."""
    name = (
        db_or_conn
        if isinstance(db_or_conn, str)
        else getattr(db_or_conn, "dialect", db_or_conn).name
    )
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise UnsupportedDialect(
        f"INSERT ... ON CONFLICT for the {name!r} database: the "
        f"registry supports sqlite and postgresql only"
    )


def dialect_insert(conn: Connection, table: Table):
    """The dialect's INSERT, for ON CONFLICT clauses of one's own."""
    return _dialect_insert(conn, table)


def insert_ignore(db_or_conn, table: Table):
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect (a Connection, Engine,
    Dialect or dialect name); UnsupportedDialect for anything but sqlite and postgresql."""
    return _dialect_insert(db_or_conn, table).on_conflict_do_nothing()


def upsert(conn: Connection, table: Table, key: str, values: dict) -> None:
    """INSERT, or UPDATE the row whose primary key column `key` matches (one statement,
    safe against a concurrent insert on both dialects)."""
    statement = _dialect_insert(conn, table).values(**values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[key], set_={k: v for k, v in values.items() if k != key}
        )
    )


def reserve(conn: Connection, name: str, count: int = 1) -> int:
    """Reserve `count` consecutive values of a counter; returns the first. Holds the counter's
    row lock until the transaction ends (this is what orders cursors by commit)."""
    note_raised(conn)
    conn.execute(
        counters.update().where(counters.c.name == name).values(value=counters.c.value + count)
    )
    last = conn.execute(sa.select(counters.c.value).where(counters.c.name == name)).scalar_one()
    return last - count + 1


class Allocator(enum.IntEnum):
    """A number allocated as max()+1 under a lock; the value is its PostgreSQL advisory
    lock key (one per allocator, so unrelated writers do not wait for each other). Take
    SIGNING_KEY_ID before TRUST_LIST_SEQUENCE (a rotation publishes): one order, no
    deadlock."""

    SIGNING_KEY_ID = 17_001
    TRUST_LIST_SEQUENCE = 17_002


def lock_allocator(conn: Connection, allocator: Allocator) -> None:
    """Hold `allocator`'s lock until the transaction ends (re-entrant). PostgreSQL: a
    transaction-scoped advisory lock; SQLite: nothing more to do, the write transaction
    (BEGIN IMMEDIATE) already excludes every other writer."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(int(allocator))))


def allocate_next(
    conn: Connection, allocator: Allocator, column: sa.Column, at_least: int = 1
) -> int:
    """The next number of `allocator`: one above the highest in `column` (and >= at_least),
    under its lock, so concurrent writers get distinct numbers. Read after the lock: on
    READ COMMITTED that statement sees what the previous holder committed. Insert the row
    in the same transaction. A rolled-back transaction leaves no gap."""
    lock_allocator(conn, allocator)
    highest = conn.execute(sa.select(sa.func.max(column))).scalar() or 0
    return max(highest + 1, at_least)


def take_sequence(conn: Connection, name: str, count: int) -> int:
    """Like reserve() (the row lock orders a feed's cursor by commit), for a counter the
    high-water mark does not follow (a restored registry begins a new epoch anyway, and
    kiosks then pull that feed again from 0)."""
    conn.execute(
        counters.update().where(counters.c.name == name).values(value=counters.c.value + count)
    )
    last = conn.execute(sa.select(counters.c.value).where(counters.c.name == name)).scalar_one()
    return last - count + 1


def set_counter(conn: Connection, name: str, value: int) -> None:
    """Set a counter outright (a new epoch raises the serial counter by a gap)."""
    note_raised(conn)
    conn.execute(counters.update().where(counters.c.name == name).values(value=value))


def raise_counter(conn: Connection, name: str, at_least: int) -> bool:
    """Raise a counter to `at_least` when it is lower (a serial the registry signed but no
    longer remembers issuing: after a restore); True when it moved."""
    moved = conn.execute(
        counters.update()
        .where(counters.c.name == name, counters.c.value < at_least)
        .values(value=at_least)
    ).rowcount
    if moved:
        note_raised(conn)
    return bool(moved)


def note_raised(conn: Connection) -> None:
    """This transaction raises what the high-water mark follows (Database.write)."""
    conn.info[RAISED] = True


def counter_value(conn: Connection, name: str) -> int:
    return conn.execute(sa.select(counters.c.value).where(counters.c.name == name)).scalar_one()


def get_meta(conn: Connection, key: str, default: str | None = None) -> str | None:
    value = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()
    return default if value is None else value


def set_meta(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(meta.update().where(meta.c.key == key).values(value=value))
    if updated.rowcount == 0:
        conn.execute(meta.insert().values(key=key, value=value))
