"""`ocop-registry` command line.

    ocop-registry serve [--db URL] [--data-dir DIR] [--host H] [--port P]
    ocop-registry serve --demo --port P --token-file FILE --root-key-file FILE2
    ocop-registry init-db                          (every command migrates the database first)
    ocop-registry import FILE [--dry-run]          (CSV or JSON; every problem reported)
    ocop-registry station add|list|set|disable|enable|rotate-token|retire ...
                                                   (registry/cli_station.py)
    ocop-registry key rotate [--now] | root-key
    ocop-registry kek generate FILE | kek rotate --new-kek-file FILE
    ocop-registry root init --root-key FILE | delegate --root-key FILE [--days N]
    ocop-registry root rotate --root-key OLD --new-root-key NEW [--days N]
    ocop-registry trust refresh [--force]         (cron; `serve` also re-signs before expiry)
    ocop-registry revoke serials FIRST LAST [--reason R]
    ocop-registry revoke key KEY_ID [--from YYYY-MM-DD] [--last-good-serial N] [--reason R]
    ocop-registry revoke suspect SERIAL [SERIAL ...] [--reason R]
    ocop-registry revoke clear-suspect SERIAL [SERIAL ...] [--reason R]
    ocop-registry backup FILE                      (SQLite; PostgreSQL: pg_dump)
    ocop-registry restore FILE | restore --after-external-restore   (begins a new epoch)
    ocop-registry admin add NAME --role viewer|editor|admin [--token-file F]
    ocop-registry admin list | admin disable NAME | admin rotate NAME [--token-file F]

Every change writes an audit row (registry/audit.py) naming cli:<os user>.

Database: --db URL, else $OCOP_REGISTRY_DB, else SQLite in the data folder (--data-dir, else
$OCOP_REGISTRY_DATA, else ./ocop-registry-data). Online private keys live in <data
folder>/keys/, or with a KEK (--kek-file, $OCOP_REGISTRY_KEK, the systemd credential
ocop-registry-kek) in the database, wrapped with it (registry/kek.py). Every
command first migrates the schema to the newest revision (registry/migrations) and refuses
a database migrated by a newer ocop-registry, then checks the database against the
high-water mark in the data folder: one that went backwards begins a new epoch
(registry/epoch.py).
Exit codes: 0 ok, 1 bug, 2 bad input or state (one line on stderr).
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from ocop.errors import UserError
from ocop.stamps.errors import KeyFileError
from ocop.stamps.keys import (
    fingerprint,
    generate_private_key,
    load_private_key,
    public_key_b64,
    save_private_key,
)
from ocop.stations import StationRole
from registry import (
    __version__,
    admins,
    archive,
    audit,
    auth,
    backup,
    catalog,
    cli_admin,
    cli_catalog,
    cli_station,
    cli_user,
    clones,
    db,
    epoch,
    retention,
    signing,
)
from registry import stations as station_rules
from registry.audit import AuditAction
from registry.config import (
    DEFAULT_BLOCK_REPLY_KEEP_DAYS,
    DEFAULT_STAMP_BASE_URL,
    ENV_ADMIN_TOKEN,
    ENV_BLOCK_REPLY_KEEP_DAYS,
    ENV_READ_DB,
    AuthLimits,
    ClonePolicy,
    CloneRules,
    HttpTimeouts,
    RegistryConfig,
    default_data_dir,
    default_db_url,
)
from registry.dal import catalog as catalog_rows
from registry.dal import stations
from registry.kek import ENV_KEK, generate_kek_text, load_kek, read_kek_file
from registry.keystore import rewrap_all
from registry.refresher import TrustRefresher
from registry.signing import DEFAULT_DELEGATION_DAYS, KeyRing, SigningError

log = logging.getLogger("registry.cli")
DEMO_STATION = "demo-station"
DEMO_DISTRICT = "Mộc Châu"


class CliError(Exception):
    """Bad input or state: one line on stderr, exit 2."""


# --- shared set-up ---------------------------------------------------------------------------


def _config(args, admin_hashes: frozenset[str] = frozenset()) -> RegistryConfig:
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    url = args.db or default_db_url(data_dir)
    if url.startswith("sqlite"):
        data_dir.mkdir(parents=True, exist_ok=True)
    config = RegistryConfig(
        db_url=url,
        data_dir=data_dir,
        stamp_base_url=getattr(args, "stamp_base_url", None) or DEFAULT_STAMP_BASE_URL,
        admin_token_hashes=admin_hashes,
        clone_rules=_clone_rules(args),
        trusted_proxies=tuple(getattr(args, "trusted_proxy", None) or ()),
        kek=load_kek(getattr(args, "kek_file", None)),
    )
    keep_days = getattr(args, "block_reply_keep_days", None)
    if keep_days is not None:
        config = dataclasses.replace(config, block_reply_keep_days=keep_days)
    if getattr(args, "command", None) != "serve":
        return config
    return dataclasses.replace(
        config,
        timeouts=HttpTimeouts(
            header_s=args.header_timeout_s,
            body_s=args.body_timeout_s,
            keep_alive_s=args.keep_alive_timeout_s,
        ),
        auth_limits=AuthLimits(args.auth_failures, args.auth_failure_window_s),
        public_base_url=args.public_base_url or "",
        read_db_url=args.read_db or os.environ.get(ENV_READ_DB, ""),
    )


def _clone_rules(args) -> CloneRules:
    settings = list(getattr(args, "clone_rule", None) or [])
    if getattr(args, "clone_policy", None):
        settings.append(f"policy={args.clone_policy}")
    return CloneRules.parse(settings)


def open_registry(config: RegistryConfig) -> tuple[db.Database, KeyRing]:
    """The database migrated to the newest schema (created on first use) and the keys."""
    database = db.Database(config.db_url, config.read_db_url)
    database.migrate()
    database.check_replica()
    keyring = KeyRing.for_config(config)
    with database.write() as conn:
        # First: a registry whose keys cannot be read as configured does not start.
        moved = keyring.prepare_storage(conn)
        if keyring.initialise(conn):
            log.info("created signing key 1 and a list-signing key in %s", keyring.store.describe())
        for warning in keyring.warnings(conn):
            log.warning("%s", warning)
    for path in moved:  # now in the database (committed): the plain copies go
        path.unlink(missing_ok=True)
    started = epoch.check_on_start(
        database,
        keyring,
        config.data_dir,
        epoch.Gaps(config.epoch_serial_gap, config.epoch_trust_sequence_gap),
    )
    if started is not None:
        m = started.mark
        print(
            f"ocop-registry: new epoch {m.epoch} (registry id {m.registry_id}): "
            f"{started.reason}; serial counter {m.serial}, trust list {m.trust_sequence}",
            file=sys.stderr,
        )
    database.after_raise = lambda: epoch.raise_mark(database, config.data_dir)
    return database, keyring


def _root_key_file(path: str, create: bool = False):
    """A root private key file given on the command line (e.g. removable media)."""
    file = Path(path)
    if create and not file.exists():
        save_private_key(file, generate_private_key())
        print(f"created root key {file} (mode 0600): keep it offline")
    try:
        return load_private_key(file)
    except KeyFileError as exc:
        raise CliError(str(exc)) from None


def cmd_root_init(args) -> int:
    """Create the root key file if missing; a fresh database takes it as its root (no
    root key in the data folder)."""
    config = _config(args)
    root = _root_key_file(args.root_key, create=True)
    database = db.Database(config.db_url)
    database.migrate()
    keyring = KeyRing.for_config(config)
    with database.write() as conn:
        moved = keyring.prepare_storage(conn)
        existing = db.get_meta(conn, "root_public_key")
        if existing is None:
            keyring.initialise(conn, root=root)
            print("registry initialised with this root; list-signing key delegated")
        elif existing != public_key_b64(root):
            raise CliError(
                f"this registry's root is {existing[:16]}..., not {args.root_key}; "
                "use 'root rotate' to change roots"
            )
        else:
            print("this key is already the registry's root")
        print(f"root public key (pin it in every kiosk): {public_key_b64(root)}")
    for path in moved:
        path.unlink(missing_ok=True)
    return 0


def cmd_root_delegate(args) -> int:
    database, keyring = open_registry(_config(args))
    root = _root_key_file(args.root_key)
    try:
        with database.write() as conn:
            delegation = keyring.delegate(conn, root, args.days)
            sequence = keyring.publish(conn)
            _audit(
                conn,
                AuditAction.ROOT_DELEGATE,
                f"root:{fingerprint(root)[:16]}",
                {"valid_until": str(delegation.valid_until), "trust_list_sequence": sequence},
            )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(
        f"new list-signing key delegated until {delegation.valid_until}; "
        f"trust list {sequence} published"
    )
    return 0


def cmd_root_rotate(args) -> int:
    database, keyring = open_registry(_config(args))
    old = _root_key_file(args.root_key)
    new = _root_key_file(args.new_root_key, create=True)
    try:
        with database.write() as conn:
            delegation = keyring.rotate_root(conn, old, new, args.days)
            sequence = keyring.publish(conn)
            _audit(
                conn,
                AuditAction.ROOT_ROTATE,
                f"root:{fingerprint(new)[:16]}",
                {"from": fingerprint(old)[:16], "trust_list_sequence": sequence},
            )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(
        f"root handed over to {fingerprint(new)[:16]}... (signed by the old root); new "
        f"list-signing key delegated until {delegation.valid_until}; trust list {sequence} "
        f"published. Kiosks pin the new root at their next sync; configure new kiosks with "
        f"{public_key_b64(new)}"
    )
    return 0


def _admin_hashes(args) -> tuple[frozenset[str], str | None]:
    """Admin token hashes from $OCOP_REGISTRY_ADMIN_TOKEN and --admin-token-file (created
    in demo mode when missing). Returns (hashes, token created now or None)."""
    hashes, created = set(), None
    env = os.environ.get(ENV_ADMIN_TOKEN, "").strip()
    if env:
        hashes.add(auth.hash_token(env))
    path = getattr(args, "admin_token_file", None)
    if path:
        path = Path(path)
        if not path.exists() and getattr(args, "demo", False):
            created = auth.generate_token()
            auth.write_secret_file(path, created)
        try:
            hashes.add(auth.hash_token(auth.read_token_file(path)))
        except (OSError, ValueError) as exc:
            raise CliError(f"admin token file: {exc}") from None
    return frozenset(hashes), created


# --- serve ---------------------------------------------------------------------------------


def cmd_serve(args) -> int:

    import uvicorn

    from registry.api import create_app
    from registry.httpserver import (
        fork_workers,
        freeze_startup_heap,
        supervise_workers,
        uvicorn_config,
    )

    if args.demo and not args.data_dir and not args.db:
        tmp = tempfile.mkdtemp(prefix="ocop-registry-demo-")
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        args.data_dir = tmp
    hashes, _ = _admin_hashes(args)
    config = _config(args, hashes)
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    if args.workers > 1 and db.is_sqlite_url(config.db_url):
        raise CliError(
            "--workers above 1 needs PostgreSQL (--db postgresql://...): SQLite lets one "
            "process write at a time, so more workers only wait for each other"
        )
    database, keyring = open_registry(config)
    if args.demo:
        token = set_up_demo(database, config)
        if args.token_file:
            auth.write_secret_file(Path(args.token_file), token)
        else:
            print(f"demo-station token: {token}", flush=True)
    if args.root_key_file:
        with database.read() as conn:
            root = keyring.root_public_key(conn)
        auth.write_secret_file(Path(args.root_key_file), root)
    with database.read() as conn:
        named = admins.count_enabled(conn)
    if hashes and named:
        log.warning(
            "the bootstrap admin token is configured although %d named admins exist: "
            "remove $%s / --admin-token-file",
            named,
            ENV_ADMIN_TOKEN,
        )
    elif not hashes and not named:
        log.warning("no admin credentials: 'ocop-registry admin add NAME --role admin'")
    app = create_app(config, database)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this on Linux: without it, a keep-alive reply written in two
    # parts waits for the client's delayed ACK (~40 ms per request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    sock.listen(128)
    port = sock.getsockname()[1]
    url = f"http://{args.host}:{port}"
    if args.url_file:
        auth.write_secret_file(Path(args.url_file), url)
    print(
        f"ocop-registry {__version__} listening on {url} (database {_safe_url(config.db_url)}"
        + (f", read replica {_safe_url(config.read_db_url)}" if config.read_db_url else "")
        + ")",
        flush=True,
    )
    server_config = uvicorn_config(app, config.timeouts, args.log_level)
    with backup.serving(config.data_dir):  # `restore` refuses while this is held
        workers: list[int] = []
        freeze_startup_heap()
        if args.workers > 1:
            database.dispose()  # no connection may be shared across fork
            workers = fork_workers(server_config, sock, args.workers)
        # Re-sign the trust list before it expires, for as long as the server runs (one
        # refresher, in this process: started after the fork).
        # Retention on the same beat (registry/retention.py), by this process too.
        refresher = TrustRefresher(
            database,
            keyring,
            config.trust_refresh_check_s,
            chores=(lambda: retention.prune(database, config, audit.SYSTEM_ACTOR),),
        ).start()
        try:
            if workers:
                return supervise_workers(workers)
            uvicorn.Server(server_config).run(sockets=[sock])
        finally:
            refresher.stop()
    return 0


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def set_up_demo(database: db.Database, config: RegistryConfig) -> str:
    """The demo catalog (real Sơn La OCOP products, placeholder pictures) and the station
    'demo-station'. Refuses a database holding a non-demo catalog. Returns a fresh token
    for demo-station (tokens are stored hashed, so a restart issues a new one)."""
    from kiosk.demo.placeholder_art import placeholder_png
    from kiosk.demo.seed import demo_rating, load_demo_catalog

    with database.write() as conn:
        if catalog_rows.count_products(conn) and db.get_meta(conn, "demo") != "1":
            raise CliError("--demo needs a fresh database; this one holds a real catalog")
        data = load_demo_catalog()
        producers = {p["id"]: p for p in data["producers"]}
        media, products_out = [], []
        for product in data["products"]:
            district = producers[product["producer"]]["district"]
            png = placeholder_png(product["group"], product["subgroup"])
            item = catalog.Media(hashlib.sha256(png).hexdigest(), "image/png", png)
            media.append(item)
            ratings = [demo_rating(r, district) for r in product["ratings"]]
            products_out.append(
                {
                    **{k: v for k, v in product.items() if k != "ratings"},
                    "ratings": ratings,
                    "is_demo": True,
                    "image_hash": item.hash,
                }
            )
        known = catalog_rows.known_ids(conn)
        batch = catalog.validate_catalog(
            {"producers": data["producers"], "products": products_out},
            known_producers=known[0],
            known_media=known[1] | {m.hash for m in media},
        )
        batch.media = media
        catalog_rows.write_catalog(conn, batch)
        db.set_meta(conn, "demo", "1")
        if not stations.exists(conn, DEMO_STATION):
            # A printing station for the demo producers, with the default quotas.
            _, token = station_rules.add(
                conn,
                DEMO_STATION,
                audit.cli_actor(),
                audit.CLI_CLIENT,
                district=DEMO_DISTRICT,
                role=StationRole.STATION,
                producers=list(producers),
            )
        else:
            token = auth.generate_token()
            auth.set_station_token(conn, DEMO_STATION, token)
    return token


# --- admin commands -------------------------------------------------------------------------


def _audit(conn, action: AuditAction, target: str, detail) -> None:
    """The audit row of a CLI change, in its transaction (actor cli:<os user>)."""
    if not isinstance(detail, dict):
        detail = {"summary": detail}
    audit.record(conn, audit.cli_actor(), action, target, audit.CLI_CLIENT, detail)


def cmd_init_db(args) -> int:
    config = _config(args)
    database, keyring = open_registry(config)
    with database.read() as conn:
        print(f"registry database ready: {_safe_url(config.db_url)}")
        print(f"root public key (pin it in every kiosk): {keyring.root_public_key(conn)}")
    return 0


def cmd_root_key(args) -> int:
    database, keyring = open_registry(_config(args))
    with database.read() as conn:
        print(keyring.root_public_key(conn))
    return 0


def cmd_import(args) -> int:
    database, _ = open_registry(_config(args))
    with database.write() as conn:
        producers, media = catalog_rows.known_ids(conn)
        try:
            batch = catalog.load_catalog_file(Path(args.file), producers, media)
        except catalog.CatalogError as exc:
            raise CliError(f"{args.file}: {exc}") from None
        if args.dry_run:
            print(
                f"{args.file}: valid: {len(batch.producers)} producers, "
                f"{len(batch.products)} products (dry run, nothing written)"
            )
            return 0
        summary = catalog_rows.write_catalog(conn, batch)
        _audit(
            conn,
            AuditAction.CATALOG_IMPORT,
            f"file:{Path(args.file).name}",
            {"file": Path(args.file).name, **summary.audit_detail()},
        )
    print(f"imported {args.file}: {summary}")
    return 0


def cmd_key_rotate(args) -> int:
    database, keyring = open_registry(_config(args))
    with database.write() as conn:
        key_id = keyring.rotate(conn, emergency=args.now)
        sequence, _ = keyring.latest_signed(conn)
        signing.audit_key_rotation(
            conn, audit.cli_actor(), audit.CLI_CLIENT, key_id, sequence, emergency=args.now
        )
        nxt = keyring.next_key(conn)
    print(f"signing key {key_id} is current; trust list {sequence} published")
    if nxt is not None:
        print(f"next signing key {nxt.key_id} published, may sign from {nxt.valid_from}")
    if args.now:
        print(
            "emergency rotation: kiosks that have not synced since the last list will show "
            "stamps of the new key as 'cannot verify yet' until they sync"
        )
    return 0


def cmd_kek_generate(args) -> int:
    """A new KEK in a file readable by the owner only (refuses to overwrite one)."""
    path = Path(args.file)
    if path.exists():
        raise CliError(f"{path} exists; a KEK file is never overwritten")
    auth.write_secret_file(path, generate_kek_text())
    print(f"new KEK {read_kek_file(path).id} written to {path} (mode 0600): back it up offline")
    return 0


def cmd_kek_rotate(args) -> int:
    """Re-wrap every private key with the new KEK, in one transaction; then give every
    process and host the new KEK and restart them."""
    config = _config(args)
    if config.kek is None:
        raise CliError(f"give the current KEK ({ENV_KEK} or --kek-file) and --new-kek-file")
    new = read_kek_file(Path(args.new_kek_file))
    database, _ = open_registry(config)
    with database.write() as conn:
        count = rewrap_all(conn, config.kek, new)
        _audit(
            conn, AuditAction.KEK_ROTATE, f"kek:{new.id}", {"from": config.kek.id, "keys": count}
        )
    print(
        f"{count} private keys re-wrapped with {new.id} (was {config.kek.id}); give every "
        f"registry process the new KEK and restart it: the old one no longer opens them"
    )
    return 0


def cmd_trust_refresh(args) -> int:
    """For cron: re-sign the trust list when less than half its validity remains."""
    database, keyring = open_registry(_config(args))
    with database.write() as conn:
        sequence = keyring.refresh(conn, force=args.force)
        tl = keyring.current_trust_list(conn)
        if sequence is not None:
            _audit(conn, AuditAction.TRUST_PUBLISH, f"trust:{sequence}", {"force": args.force})
    if sequence is None:
        print(f"trust list {tl.sequence} is fresh (expires {tl.expires_at}); nothing to do")
    else:
        print(f"trust list {sequence} published (expires {tl.expires_at})")
    return 0


def cmd_revoke(args) -> int:
    database, keyring = open_registry(_config(args))
    actor = audit.cli_actor()
    try:
        with database.write() as conn:
            if args.what == "serials":
                sequence = keyring.revoke_serials(conn, args.first, args.last, args.reason)
                signing.audit_serials_revocation(
                    conn, actor, audit.CLI_CLIENT, args.first, args.last, args.reason, sequence
                )
            elif args.what == "key":
                since = (
                    dt.date.fromisoformat(args.revoked_from)
                    if args.revoked_from
                    else dt.datetime.now(dt.UTC).date()
                )
                sequence = keyring.revoke_key(
                    conn, args.key_id, since, args.last_good_serial, args.reason
                )
                signing.audit_key_revocation(
                    conn,
                    actor,
                    audit.CLI_CLIENT,
                    args.key_id,
                    since,
                    args.last_good_serial,
                    args.reason,
                    sequence,
                )
            else:
                if args.what == "suspect":
                    sequence = keyring.mark_suspect(conn, args.serials, args.reason)
                    action = AuditAction.SUSPECT_ADD
                else:  # clear-suspect
                    cleared, sequence = clones.clear(conn, keyring, args.serials, actor)
                    action = AuditAction.SUSPECT_CLEAR
                    print(f"taken off the suspect list: {', '.join(map(str, cleared)) or 'none'}")
                target = "serials:" + ",".join(str(s) for s in args.serials[:50])
                _audit(
                    conn, action, target, {"reason": args.reason, "trust_list_sequence": sequence}
                )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"trust list {sequence} published")
    return 0


def cmd_backup(args) -> int:
    config = _config(args)
    live = backup.sqlite_path(config.db_url)
    if live is None:
        raise CliError(
            "backup of a PostgreSQL registry: use pg_dump (docs/operations.md, 'Backups')"
        )
    open_registry(config)  # migrated and epoch-checked like every command
    backup.backup_sqlite(live, Path(args.file))
    print(f"backed up {_safe_url(config.db_url)} to {args.file}")
    return 0


def cmd_archive(args) -> int:
    """Export a month's raw scans to a compressed file with its sha256, then delete them
    (registry/archive.py; the idempotency keys stay: exactly-once is kept)."""
    config = _config(args)
    database, _ = open_registry(config)
    try:
        archive.check_before(args.before)
    except archive.ArchiveError as exc:
        raise CliError(str(exc)) from None
    out = Path(args.out) if args.out else config.data_dir / "archive"
    done = archive.archive_before(database, args.before, out)
    for month in done:
        with database.write(raises_mark=False) as conn:
            _audit(
                conn,
                AuditAction.SCANS_ARCHIVE,
                f"scans:{month.month}",
                {"rows": month.rows, "file": month.path.name, "sha256": month.sha256},
            )
        how = "partition dropped" if month.dropped_partition else "rows deleted"
        print(f"{month.month}: {month.rows} scans archived to {month.path} ({how})")
    if not done:
        print(f"no scans before {args.before}: nothing to archive")
    return 0


def cmd_prune(args) -> int:
    """Drop what is kept only for a while (registry/retention.py): stamp-block replies
    older than block_reply_keep_days, ended rate-limit counters."""
    config = _config(args)
    database, _ = open_registry(config)
    done = retention.prune(database, config, audit.cli_actor())
    print(
        f"stamp-block replies dropped: {done.block_replies} (issued more than "
        f"{config.block_reply_keep_days} days ago); rate-limit counters deleted: "
        f"{done.limiter_rows}"
    )
    return 0


def cmd_restore(args) -> int:
    config = _config(args)
    live = backup.sqlite_path(config.db_url)
    with backup.nobody_serving(config.data_dir):
        if args.after_external_restore:
            if args.file:
                raise CliError("give a backup FILE or --after-external-restore, not both")
            epoch.request_new_epoch(config.data_dir, "restored outside ocop-registry")
        else:
            if not args.file:
                raise CliError("restore needs a backup FILE (or --after-external-restore)")
            if live is None:
                raise CliError(
                    "restore of a PostgreSQL registry: pg_restore, then 'ocop-registry "
                    "restore --after-external-restore' (docs/operations.md, 'Backups')"
                )
            backup.check_backup_file(Path(args.file))
            # Announced first: a crash from here on still ends in a new epoch.
            epoch.request_new_epoch(config.data_dir, f"restored from {args.file}")
            backup.restore_sqlite(Path(args.file), live)
        database, _ = open_registry(config)  # begins the new epoch
    with database.read() as conn:
        m = epoch.database_mark(conn)
    print(
        f"restored: epoch {m.epoch}, registry id {m.registry_id}, serial counter {m.serial}, "
        f"trust list {m.trust_sequence}"
    )
    return 0


# --- parser -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n(try '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        help="database URL (sqlite:///FILE or "
        "postgresql://...; default $OCOP_REGISTRY_DB or SQLite in the data "
        "folder)",
    )
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data folder: keys, default "
        "SQLite file (default $OCOP_REGISTRY_DATA or ./ocop-registry-data)",
    )
    common.add_argument(
        "--kek-file",
        metavar="FILE",
        help="key-encryption key: the online private keys are then kept in the database, "
        "shared by every process and host (default $OCOP_REGISTRY_KEK, else the systemd "
        "credential ocop-registry-kek; none: key files in the data folder)",
    )
    parser = _Parser(prog="ocop-registry", description="OCOP Sơn La provincial registry.")
    parser.add_argument("--version", action="version", version=f"ocop-registry {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    keep_days = _Parser(add_help=False)
    keep_days.add_argument(
        "--block-reply-keep-days",
        type=int,
        metavar="DAYS",
        help="days a stamp block's signed reply is kept for retries (default "
        f"${ENV_BLOCK_REPLY_KEEP_DAYS} or {DEFAULT_BLOCK_REPLY_KEEP_DAYS}); a later retry "
        "gets 410 Gone",
    )
    p = sub.add_parser("serve", parents=[common, keep_days], help="run the HTTP server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 = any free port (printed)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="demo catalog, keys and station "
        "'demo-station' (a fresh temporary database unless --db/--data-dir)",
    )
    p.add_argument("--token-file", metavar="FILE", help="--demo: write demo-station's token")
    p.add_argument("--root-key-file", metavar="FILE", help="write the root public key")
    p.add_argument(
        "--admin-token-file",
        metavar="FILE",
        help="admin token (created in --demo mode when missing); also $OCOP_REGISTRY_ADMIN_TOKEN",
    )
    p.add_argument("--url-file", metavar="FILE", help="write the listening URL")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="HTTP worker processes (default 1; more than 1 needs PostgreSQL)",
    )
    p.add_argument(
        "--stamp-base-url",
        metavar="URL",
        help="base URL of issued stamps (default HTTPS://OCOP.SONLA.GOV.VN/S/)",
    )
    p.add_argument(
        "--clone-policy",
        choices=[c.value for c in ClonePolicy],
        help="clone detections: publish to the suspect list at once (default) or wait for "
        "the office's approval",
    )
    p.add_argument(
        "--clone-rule",
        action="append",
        metavar="NAME=VALUE",
        help="a clone rule setting (registry.config.CloneRules), e.g. max_stations=2; repeat",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        metavar="ADDR",
        help="a reverse proxy (address or network) whose X-Forwarded-For is believed; repeat",
    )
    p.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.add_argument(
        "--public-base-url",
        metavar="URL",
        help="where browsers reach the registry, e.g. https://ocop.sonla.gov.vn (absolute "
        "URLs, accepted Origin; https turns on HSTS)",
    )
    timeouts, limits = HttpTimeouts(), AuthLimits()
    p.add_argument(
        "--read-db",
        metavar="URL",
        help="a read replica (PostgreSQL streaming standby of --db) for the stamp page and "
        "the reports; the primary when it is unreachable (default $OCOP_REGISTRY_READ_DB)",
    )
    p.add_argument("--header-timeout-s", type=float, default=timeouts.header_s)
    p.add_argument("--body-timeout-s", type=float, default=timeouts.body_s)
    p.add_argument("--keep-alive-timeout-s", type=float, default=timeouts.keep_alive_s)
    p.add_argument(
        "--auth-failures",
        type=int,
        default=limits.max_failures,
        help="failed token checks per client address before 429",
    )
    p.add_argument("--auth-failure-window-s", type=float, default=limits.window_s)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("init-db", parents=[common], help="create or migrate the tables; keys")
    p.set_defaults(handler=cmd_init_db)
    p = sub.add_parser("root-key", parents=[common], help="print the root public key")
    p.set_defaults(handler=cmd_root_key)

    p = sub.add_parser("import", parents=[common], help="import a catalog (CSV or JSON)")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="validate only")
    p.set_defaults(handler=cmd_import)

    station = sub.add_parser("station", help="stations").add_subparsers(
        dest="station_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    cli_station.register(station, common, lambda args: open_registry(_config(args)))

    key = sub.add_parser("key", help="signing keys").add_subparsers(
        dest="key_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    p = key.add_parser(
        "rotate",
        parents=[common],
        help="switch to the pre-published next signing key; publish another",
    )
    p.add_argument(
        "--now",
        action="store_true",
        help="emergency: before the next key's not-before date (kiosks that have not "
        "synced show its stamps as 'cannot verify yet')",
    )
    p.set_defaults(handler=cmd_key_rotate)

    kek = sub.add_parser("kek", help="the key-encryption key").add_subparsers(
        dest="kek_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    p = kek.add_parser("generate", help="write a new KEK file (mode 0600)")
    p.add_argument("file")
    p.set_defaults(handler=cmd_kek_generate)
    p = kek.add_parser("rotate", parents=[common], help="re-wrap every private key with a new KEK")
    p.add_argument("--new-kek-file", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_kek_rotate)

    p = sub.add_parser("backup", parents=[common], help="consistent copy of a SQLite registry")
    p.add_argument("file")
    p.set_defaults(handler=cmd_backup)
    p = sub.add_parser(
        "archive",
        parents=[common],
        help="export the raw scans of months before YYYY-MM (JSONL.gz + sha256), then delete them",
    )
    p.add_argument("--before", required=True, metavar="YYYY-MM", help="first month kept")
    p.add_argument("--out", metavar="DIR", help="where the files go (default DATA_DIR/archive)")
    p.set_defaults(handler=cmd_archive)
    p = sub.add_parser(
        "prune",
        parents=[common, keep_days],
        help="drop stamp-block replies older than the keep period and ended rate-limit "
        "counters (serve does this by itself)",
    )
    p.set_defaults(handler=cmd_prune)
    p = sub.add_parser(
        "restore", parents=[common], help="restore a backup; begins a new epoch (stop serve first)"
    )
    p.add_argument("file", nargs="?")
    p.add_argument(
        "--after-external-restore",
        action="store_true",
        help="the database was restored by other means (pg_restore, a copied file): "
        "begin the new epoch on it",
    )
    p.set_defaults(handler=cmd_restore)
    root = sub.add_parser(
        "root", help="the offline root key (give its file, e.g. on removable media)"
    ).add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser, required=True)
    p = root.add_parser(
        "init",
        parents=[common],
        help="create the root key file if missing; a fresh database uses it",
    )
    p.add_argument("--root-key", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_root_init)
    p = root.add_parser(
        "delegate", parents=[common], help="delegate list signing to a new online key"
    )
    p.add_argument("--root-key", required=True, metavar="FILE")
    p.add_argument("--days", type=float, default=DEFAULT_DELEGATION_DAYS)
    p.set_defaults(handler=cmd_root_delegate)
    p = root.add_parser(
        "rotate", parents=[common], help="hand over to a new root, signed by the old one"
    )
    p.add_argument("--root-key", required=True, metavar="OLD")
    p.add_argument("--new-root-key", required=True, metavar="NEW", help="created if missing")
    p.add_argument("--days", type=float, default=DEFAULT_DELEGATION_DAYS)
    p.set_defaults(handler=cmd_root_rotate)

    trust = sub.add_parser("trust", help="the published trust list").add_subparsers(
        dest="what", metavar="WHAT", parser_class=_Parser, required=True
    )
    p = trust.add_parser(
        "refresh",
        parents=[common],
        help="re-sign the trust list when less than half its validity remains (cron)",
    )
    p.add_argument("--force", action="store_true", help="re-sign even when still fresh")
    p.set_defaults(handler=cmd_trust_refresh)

    revoke = sub.add_parser("revoke", help="revoke serials or a key, mark suspects").add_subparsers(
        dest="what", metavar="WHAT", parser_class=_Parser, required=True
    )
    p = revoke.add_parser("serials", parents=[common], help="revoke a serial range")
    p.add_argument("first", type=int)
    p.add_argument("last", type=int)
    p.add_argument("--reason", default="")
    p.set_defaults(handler=cmd_revoke)
    p = revoke.add_parser("key", parents=[common], help="revoke a signing key")
    p.add_argument("key_id", type=int)
    p.add_argument(
        "--from",
        dest="revoked_from",
        metavar="YYYY-MM-DD",
        help="stamps issued on or after this day are revoked (default today)",
    )
    p.add_argument("--last-good-serial", type=int, default=None)
    p.add_argument("--reason", default="")
    p.set_defaults(handler=cmd_revoke)
    p = revoke.add_parser("suspect", parents=[common], help="put serials on the suspect list")
    p.add_argument("serials", type=int, nargs="+")
    p.add_argument("--reason", default="")
    p.set_defaults(handler=cmd_revoke)
    p = revoke.add_parser(
        "clear-suspect",
        parents=[common],
        help="take serials off the suspect list (found genuine); their detections are dismissed",
    )
    p.add_argument("serials", type=int, nargs="+")
    p.add_argument("--reason", default="")
    p.set_defaults(handler=cmd_revoke)
    deps = cli_admin.CliDeps(_config, open_registry, CliError)
    cli_admin.add_parser(sub, common, _Parser, deps)
    cli_user.add_parser(sub, common, _Parser, deps)
    cli_catalog.add_parser(sub, common, _Parser, deps)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:  # its per-connection chatter; registry.migrations logs changes
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except (CliError, SigningError, catalog.CatalogError, UserError, backup.BackupError) as exc:
        print(f"ocop-registry: error: {exc}", file=sys.stderr)
        return 2
    except sa.exc.OperationalError as exc:
        print(f"ocop-registry: error: database: {str(exc.orig).strip()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
