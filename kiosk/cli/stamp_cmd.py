"""`ocop-kiosk stamp ...`: issue stamps from the station's blocks, verify stamp texts, and
look after the trust list (show, import, export; demo: rotate, revoke, suspect).

    ocop-kiosk stamp issue --product 101 --count 5 [--json]
    ocop-kiosk stamp verify TEXT... [--json] [--today YYYY-MM-DD]   (TEXT '-' = stdin lines)
    ocop-kiosk stamp trust show [--json] | export | import FILE
    ocop-kiosk stamp trust rotate                                   (demo)
    ocop-kiosk stamp trust revoke --serials 1-50 [--reason R]       (demo)
    ocop-kiosk stamp trust revoke --key 1 --from 2025-06-01 [--last-good-serial N]  (demo)
    ocop-kiosk stamp trust suspect SERIAL...                        (demo)

`verify` exits 0 whenever every input got a verdict (whatever the verdicts are).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from ocop.errors import UserError


def register(sub) -> None:
    parser = sub.add_parser(
        "stamp",
        help="issue and verify OCOP stamps, manage trust",
        description="Issue stamps from this station's pre-signed blocks "
        "(or the demo key), verify stamp texts offline, manage the trust "
        "list. Format: docs/stamp-format.md.",
    )
    stamp_sub = parser.add_subparsers(dest="stamp_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args, ctx: _usage(parser))

    issue = stamp_sub.add_parser(
        "issue",
        help="take stamps for a product from the block",
        description="Reserve COUNT stamps of a product from this "
        "station's pre-signed blocks (in demo mode, sign new ones "
        "with the demo key when the block runs short) and print "
        "them. All or nothing.",
    )
    issue.add_argument("--product", type=_product_id, required=True, metavar="ID")
    issue.add_argument("--count", type=_positive, default=1, metavar="N")
    issue.add_argument("--json", action="store_true", help="one JSON object per line")
    issue.set_defaults(handler=handle_issue)

    verify = stamp_sub.add_parser(
        "verify",
        help="verify stamp texts offline",
        description="Verify each TEXT as a kiosk scan would "
        "(without recording a scan). TEXT '-' reads one text per "
        "line from standard input.",
    )
    verify.add_argument("texts", nargs="+", metavar="TEXT")
    verify.add_argument("--json", action="store_true", help="one JSON object per line")
    verify.add_argument(
        "--today",
        type=_date,
        metavar="YYYY-MM-DD",
        help="judge rating validity as of this day (default: today)",
    )
    verify.set_defaults(handler=handle_verify)

    trust = stamp_sub.add_parser("trust", help="show, import or (demo) change the trust list")
    trust_sub = trust.add_subparsers(dest="trust_command", metavar="ACTION")
    trust.set_defaults(handler=lambda args, ctx: _usage(trust))
    show = trust_sub.add_parser("show", help="the current trust list")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=handle_trust_show)
    export = trust_sub.add_parser("export", help="print the stored signed trust list")
    export.set_defaults(handler=handle_trust_export)
    imp = trust_sub.add_parser(
        "import",
        help="verify and store a signed trust list file",
        description="Verify FILE ('-' = stdin) against the pinned "
        "root and store it; an older sequence is refused.",
    )
    imp.add_argument("file", metavar="FILE")
    imp.set_defaults(handler=handle_trust_import)
    rotate = trust_sub.add_parser("rotate", help="demo: new signing key for new stamps")
    rotate.add_argument("--today", type=_date, metavar="YYYY-MM-DD")
    rotate.set_defaults(handler=handle_trust_rotate)
    revoke = trust_sub.add_parser("revoke", help="demo: revoke a serial range or a key")
    what = revoke.add_mutually_exclusive_group(required=True)
    what.add_argument("--serials", type=_serial_range, metavar="FIRST-LAST")
    what.add_argument("--key", type=int, metavar="KEY_ID")
    revoke.add_argument(
        "--from",
        dest="revoked_from",
        type=_date,
        metavar="YYYY-MM-DD",
        help="with --key: stamps issued on or after this day are revoked",
    )
    revoke.add_argument(
        "--last-good-serial",
        type=int,
        metavar="N",
        help="with --key: its stamps with a higher serial are revoked too",
    )
    revoke.add_argument("--reason", default="", help="shown to staff, e.g. 'stolen station'")
    revoke.set_defaults(handler=handle_trust_revoke)
    suspect = trust_sub.add_parser("suspect", help="demo: put serials on the suspect list")
    suspect.add_argument("serials", nargs="+", type=_positive, metavar="SERIAL")
    suspect.set_defaults(handler=handle_trust_suspect)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# --- argument types --------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return value


def _product_id(text: str) -> int:
    from ocop.stamps.codec import MAX_PRODUCT_ID

    value = _positive(text)
    if value > MAX_PRODUCT_ID:
        raise argparse.ArgumentTypeError(f"product id must be below 2**24: {value}")
    return value


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _serial_range(text: str) -> tuple[int, int]:
    first, sep, last = text.partition("-")
    try:
        a, b = int(first), int(last if sep else first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST, got {text!r}") from None
    if not 1 <= a <= b:
        raise argparse.ArgumentTypeError(f"expected 1 <= FIRST <= LAST, got {text!r}")
    return a, b


# --- output ----------------------------------------------------------------------------------


def _json_line(obj) -> None:
    line = json.dumps(obj, ensure_ascii=False)
    try:
        line.encode(sys.stdout.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        line = json.dumps(obj, ensure_ascii=True)  # lone surrogates, odd terminals
    sys.stdout.write(line + "\n")


def _safe(text: str) -> str:
    """For plain-text output: never a control character or unencodable byte on screen."""
    return (
        "".join(c if c.isprintable() else "\ufffd" for c in text)
        .encode("utf-8", "replace")
        .decode("utf-8")
    )


# --- handlers --------------------------------------------------------------------------------


def handle_issue(args, ctx) -> int:
    from kiosk.stamps.demo import load_demo_signer
    from kiosk.stamps.service import issue_stamps

    store = ctx.store()
    signer = load_demo_signer(store, ctx.data_dir, ctx.settings)
    if store.query_one("SELECT 1 FROM products WHERE id = ?", (args.product,)) is None:
        print(
            f"ocop-kiosk: warning: product {args.product} is not in the local catalog "
            f"(its stamps will verify as genuine_unknown_product here)",
            file=sys.stderr,
        )
    for stamp in issue_stamps(store, args.product, args.count, demo_signer=signer):
        if args.json:
            _json_line(stamp.to_json())
        else:
            print(stamp.text)
    return 0


def _inputs(texts: list[str]) -> Iterator[str]:
    for text in texts:
        if text == "-":
            stream = getattr(sys.stdin, "buffer", None)
            lines: Iterable[str]
            if stream is not None:
                lines = (raw.decode("utf-8", "replace") for raw in stream)
            else:
                lines = iter(sys.stdin)
            for line in lines:
                line = line.rstrip("\r\n")
                if line:
                    yield line
        else:
            yield text


def handle_verify(args, ctx) -> int:
    from kiosk.stamps.service import verifier_from_store

    verifier = verifier_from_store(ctx.store(), ctx.settings)
    language = ctx.settings.language.value
    for text in _inputs(args.texts):
        result = verifier.verify(text, today=args.today)
        if args.json:
            _json_line(result.to_json())
        else:
            parts = [result.verdict.value]
            if result.product_id is not None:
                parts.append(f"product={result.product_id}")
            if result.serial is not None:
                parts.append(
                    f"serial={result.serial} key={result.key_id} issued={result.issued_on}"
                )
            if result.gtin:
                parts.append(f"gtin={result.gtin}")
            parts.append(result.verdict.message(language))
            print("  ".join(parts))
    return 0


def handle_trust_show(args, ctx) -> int:
    from kiosk.stamps.service import current_trust_list

    tl = current_trust_list(ctx.store(), ctx.settings)
    if args.json:
        _json_line(tl.to_dict())
        return 0
    print(f"trust list {tl.sequence}, issued {tl.issued_at}, root {tl.root_fingerprint[:16]}")
    for k in tl.signing_keys:
        print(
            f"  signing key {k.key_id}: stamps issued {k.valid_from} .. {k.valid_until or 'open'}"
        )
    for rk in tl.revoked_keys:
        extra = f", serials above {rk.last_good_serial}" if rk.last_good_serial is not None else ""
        print(
            f"  revoked key {rk.key_id}: stamps issued from {rk.revoked_from}{extra} "
            f"{_safe(rk.reason)}".rstrip()
        )
    for r in tl.revoked_ranges:
        print(f"  revoked serials {r.first}-{r.last} {_safe(r.reason)}".rstrip())
    if tl.suspect_serials:
        shown = sorted(tl.suspect_serials)
        more = f" (+{len(shown) - 20} more)" if len(shown) > 20 else ""
        print(f"  suspect serials: {' '.join(map(str, shown[:20]))}{more}")
    return 0


def handle_trust_export(args, ctx) -> int:
    from kiosk.stamps.service import pinned_root_key
    from kiosk.stamps.trust_store import newest_verified_row

    store = ctx.store()
    root = pinned_root_key(ctx.settings, store)
    found = newest_verified_row(store.conn, root) if root else None
    if found is None:
        raise UserError("no trust list signed by the pinned root is stored")
    sys.stdout.write(found[1] + "\n")
    return 0


def handle_trust_import(args, ctx) -> int:
    from kiosk.stamps.service import pinned_root_key
    from kiosk.stamps.trust_store import store_trust_list

    store = ctx.store()
    root = pinned_root_key(ctx.settings, store)
    if not root:
        raise UserError("no root public key pinned: set registry.root_public_key first")
    try:
        blob = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {args.file}: {exc.strerror}") from None
    tl = store_trust_list(store, blob, root)
    print(f"trust list {tl.sequence} verified and stored")
    return 0


def _demo(ctx):
    from kiosk.stamps.demo import DemoRegistry

    store = ctx.store()
    registry = DemoRegistry(store, ctx.data_dir)
    from kiosk.stamps.service import pinned_root_key

    if pinned_root_key(ctx.settings, store) != registry.root_public_b64:
        raise UserError(
            "this kiosk pins another root than the demo root; demo trust "
            "changes would not be accepted"
        )
    return registry


def handle_trust_rotate(args, ctx) -> int:
    new_id, tl = _demo(ctx).rotate(args.today)
    print(
        f"trust list {tl.sequence}: new stamps are signed with key {new_id}; stamps of "
        f"earlier keys stay genuine while those keys are trusted"
    )
    return 0


def handle_trust_revoke(args, ctx) -> int:
    registry = _demo(ctx)
    if args.serials:
        if args.revoked_from or args.last_good_serial is not None:
            raise UserError("--from and --last-good-serial go with --key")
        tl = registry.revoke_serials(*args.serials, reason=args.reason)
        print(f"trust list {tl.sequence}: serials {args.serials[0]}-{args.serials[1]} revoked")
    else:
        if args.revoked_from is None:
            raise UserError("--key needs --from YYYY-MM-DD (first issue day revoked)")
        tl = registry.revoke_key(args.key, args.revoked_from, args.last_good_serial, args.reason)
        print(
            f"trust list {tl.sequence}: key {args.key} revoked for stamps issued from "
            f"{args.revoked_from}"
        )
    return 0


def handle_trust_suspect(args, ctx) -> int:
    tl = _demo(ctx).mark_suspect(args.serials)
    print(f"trust list {tl.sequence}: {len(tl.suspect_serials)} suspect serial(s)")
    return 0
