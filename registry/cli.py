"""`ocop-registry` command line.

    ocop-registry serve [--db URL] [--data-dir DIR] [--host H] [--port P]
    ocop-registry serve --demo --port P --token-file FILE --root-key-file FILE2
    ocop-registry init-db                          (every command migrates the database first)
    ocop-registry import FILE [--dry-run]          (CSV or JSON; every problem reported)
    ocop-registry station add NAME [--district D] [--token-file F] | station list
    ocop-registry key rotate [--now] | root-key
    ocop-registry root init --root-key FILE | delegate --root-key FILE [--days N]
    ocop-registry root rotate --root-key OLD --new-root-key NEW [--days N]
    ocop-registry trust refresh [--force]         (cron; `serve` also re-signs before expiry)
    ocop-registry revoke serials FIRST LAST [--reason R]
    ocop-registry revoke key KEY_ID [--from YYYY-MM-DD] [--last-good-serial N] [--reason R]
    ocop-registry revoke suspect SERIAL [SERIAL ...] [--reason R]

Database: --db URL, else $OCOP_REGISTRY_DB, else SQLite in the data folder (--data-dir, else
$OCOP_REGISTRY_DATA, else ./ocop-registry-data). Keys live in <data folder>/keys/. Every
command first migrates the schema to the newest revision (registry/migrations) and refuses
a database migrated by a newer ocop-registry.
Exit codes: 0 ok, 1 bug, 2 bad input or state (one line on stderr).
"""

from __future__ import annotations

import argparse
import atexit
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
from registry import __version__, auth, catalog, db
from registry.config import (
    DEFAULT_STAMP_BASE_URL,
    ENV_ADMIN_TOKEN,
    RegistryConfig,
    default_data_dir,
    default_db_url,
)
from registry.dal import catalog as catalog_rows
from registry.dal import stations
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
    return RegistryConfig(
        db_url=url,
        data_dir=data_dir,
        stamp_base_url=getattr(args, "stamp_base_url", None) or DEFAULT_STAMP_BASE_URL,
        admin_token_hashes=admin_hashes,
    )


def open_registry(config: RegistryConfig) -> tuple[db.Database, KeyRing]:
    """The database migrated to the newest schema (created on first use) and the keys."""
    database = db.Database(config.db_url)
    database.migrate()
    keyring = KeyRing.for_config(config)
    with database.write() as conn:
        if keyring.initialise(conn):
            log.info("created signing key 1 and a list-signing key in %s", config.keys_dir)
        for warning in keyring.warnings(conn):
            log.warning("%s", warning)
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
    return 0


def cmd_root_delegate(args) -> int:
    database, keyring = open_registry(_config(args))
    root = _root_key_file(args.root_key)
    try:
        with database.write() as conn:
            delegation = keyring.delegate(conn, root, args.days)
            sequence = keyring.publish(conn)
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

    if args.demo and not args.data_dir and not args.db:
        tmp = tempfile.mkdtemp(prefix="ocop-registry-demo-")
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        args.data_dir = tmp
    hashes, _ = _admin_hashes(args)
    config = _config(args, hashes)
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
    if not hashes:
        log.warning("no admin token configured: admin API and reports are disabled")
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
        f"ocop-registry {__version__} listening on {url} (database {_safe_url(config.db_url)})",
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=args.log_level, access_log=False, timeout_graceful_shutdown=3)
    )
    # Re-sign the trust list before it expires, for as long as the server runs.
    refresher = TrustRefresher(database, keyring, config.trust_refresh_check_s).start()
    try:
        server.run(sockets=[sock])
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
    from kiosk.demo.seed import BODY_BY_STARS, PLACEHOLDER_DATE, load_demo_catalog

    with database.write() as conn:
        if catalog_rows.count_products(conn) and db.get_meta(conn, "demo") != "1":
            raise CliError("--demo needs a fresh database; this one holds a real catalog")
        data = load_demo_catalog()
        producers = {p["id"]: p for p in data["producers"]}
        media, products_out = [], []
        for product in data["products"]:
            district = producers[product["producer"]]["district"]
            png = placeholder_png(product["group"], product["name_vi"])
            item = catalog.Media(hashlib.sha256(png).hexdigest(), "image/png", png)
            media.append(item)
            ratings = []
            for r in product["ratings"]:
                body = BODY_BY_STARS.get(r["stars"], "")
                if r["stars"] == 3:
                    body = (
                        f"UBND huyện {district}"
                        if district != "Thành phố Sơn La"
                        else "UBND thành phố Sơn La"
                    )
                ratings.append(
                    {
                        "stars": r["stars"],
                        "body": body,
                        "decision_no": "",
                        "recognised_on": f"{r['year']}-{r.get('month_day', PLACEHOLDER_DATE)}",
                    }
                )
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
            _, token = auth.add_station(conn, DEMO_STATION, DEMO_DISTRICT)
        else:
            token = auth.generate_token()
            auth.set_station_token(conn, DEMO_STATION, token)
    return token


# --- admin commands -------------------------------------------------------------------------


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
    print(f"imported {args.file}: {summary}")
    return 0


def cmd_station_add(args) -> int:
    database, _ = open_registry(_config(args))
    try:
        with database.write() as conn:
            station, token = auth.add_station(conn, args.name, args.district)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.token_file:
        auth.write_secret_file(Path(args.token_file), token)
        print(f"station {station.name} added; token written to {args.token_file}")
    else:
        print(f"station {station.name} added. Its token (shown only now):\n{token}")
    return 0


def cmd_station_list(args) -> int:
    database, _ = open_registry(_config(args))
    with database.read() as conn:
        rows = stations.all_by_name(conn)
    for r in rows:
        state = "disabled" if r.disabled else "active"
        print(f"{r.name}\t{r.district or '-'}\t{state}\tlast seen {r.last_seen_at or 'never'}")
    return 0


def cmd_key_rotate(args) -> int:
    database, keyring = open_registry(_config(args))
    with database.write() as conn:
        key_id = keyring.rotate(conn, emergency=args.now)
        sequence, _ = keyring.latest_signed(conn)
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


def cmd_trust_refresh(args) -> int:
    """For cron: re-sign the trust list when less than half its validity remains."""
    database, keyring = open_registry(_config(args))
    with database.write() as conn:
        sequence = keyring.refresh(conn, force=args.force)
        tl = keyring.current_trust_list(conn)
    if sequence is None:
        print(f"trust list {tl.sequence} is fresh (expires {tl.expires_at}); nothing to do")
    else:
        print(f"trust list {sequence} published (expires {tl.expires_at})")
    return 0


def cmd_revoke(args) -> int:
    database, keyring = open_registry(_config(args))
    try:
        with database.write() as conn:
            if args.what == "serials":
                sequence = keyring.revoke_serials(conn, args.first, args.last, args.reason)
            elif args.what == "key":
                since = (
                    dt.date.fromisoformat(args.revoked_from)
                    if args.revoked_from
                    else dt.datetime.now(dt.UTC).date()
                )
                sequence = keyring.revoke_key(
                    conn, args.key_id, since, args.last_good_serial, args.reason
                )
            else:
                sequence = keyring.mark_suspect(conn, args.serials, args.reason)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"trust list {sequence} published")
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
    parser = _Parser(prog="ocop-registry", description="OCOP Sơn La provincial registry.")
    parser.add_argument("--version", action="version", version=f"ocop-registry {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("serve", parents=[common], help="run the HTTP server")
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
        "--stamp-base-url",
        metavar="URL",
        help="base URL of issued stamps (default HTTPS://OCOP.SONLA.GOV.VN/S/)",
    )
    p.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
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
    p = station.add_parser("add", parents=[common], help="add a station; prints its token")
    p.add_argument("name")
    p.add_argument("--district", default="")
    p.add_argument("--token-file", metavar="FILE", help="write the token here instead")
    p.set_defaults(handler=cmd_station_add)
    p = station.add_parser("list", parents=[common], help="list stations")
    p.set_defaults(handler=cmd_station_list)

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
    except (CliError, SigningError, catalog.CatalogError, UserError) as exc:
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
