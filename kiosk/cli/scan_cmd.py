"""`ocop-kiosk scan [--json] PATH...`: read codes from images, folders of images or videos
and verify them as the kiosk would (without recording scans).

One line per image (or per distinct code in a video). Exit 0 when every input was readable,
even when no code was found (verdict `no_code`); 2 when an input could not be read (a clear
message on stderr; the other inputs are still processed).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

from ocop.errors import UserError

if TYPE_CHECKING:
    from ocop.stamps.verifier import StampVerifier, Verification

EXIT_OK, EXIT_UNREADABLE = 0, 2
NO_CODE = "no_code"
UNVERIFIED = "unverified"  # codes were read but no trust list is available to judge them


def register(sub) -> None:
    parser = sub.add_parser(
        "scan",
        help="read and verify codes in images, folders or videos",
        description="Decode QR stamps and product barcodes in each PATH (an image, a folder "
        "of images or a video) with the kiosk's decoders and verify them offline. One line "
        "per image, or per distinct code in a video. Exit 2 if an input is unreadable.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="verify as of this date (default: today)",
    )
    parser.set_defaults(handler=handle_scan)


class _LazyVerifier:
    """Built on the first code: scanning images with no code needs no store at all."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._verifier: StampVerifier | None = None
        self.problem: str | None = None

    def verify(self, text: str, today: dt.date | None) -> Verification | None:
        if self._verifier is None and self.problem is None:
            try:
                from kiosk.stamps.service import verifier_from_store

                self._verifier = verifier_from_store(self.ctx.store(), self.ctx.settings)
            except UserError as exc:
                self.problem = str(exc)
                print(f"ocop-kiosk: warning: codes are not verified: {exc}", file=sys.stderr)
        if self._verifier is None:
            return None
        return self._verifier.verify(text, today=today)


def _record(result, verifier: _LazyVerifier, today: dt.date | None) -> dict:
    verifications = [verifier.verify(code.text, today) for code in result.codes]
    # The headline verdict: the first code that names a product (a stamp or a known GTIN),
    # else the first code; a frame rarely holds more than one.
    main = next(
        (v for v in verifications if v is not None and v.product_id is not None),
        verifications[0] if verifications else None,
    )
    if not result.codes:
        verdict = NO_CODE
    elif main is None:
        verdict = UNVERIFIED
    else:
        verdict = main.verdict.value
    record = {
        "input": result.input,
        "codes": result.texts,
        "formats": [code.format.value for code in result.codes],
        "verdict": verdict,
        "product_id": main.product_id if main else None,
        "serial": main.serial if main else None,
        "decode_ms": round(result.decode_ms, 2),
    }
    if result.frame_index is not None:
        record["frame_index"] = result.frame_index
    if result.hint is not None:
        record["hint"] = result.hint.reason  # a QR was seen but could not be read
    if len(verifications) > 1:
        record["verifications"] = [v.to_json() if v else None for v in verifications]
    return record


def _print_json(obj) -> None:
    try:
        print(json.dumps(obj, ensure_ascii=False), flush=True)
    except UnicodeEncodeError:
        print(json.dumps(obj, ensure_ascii=True), flush=True)


def handle_scan(args, ctx) -> int:
    from scanner.files import ScanError, scan_paths

    verifier = _LazyVerifier(ctx)
    exit_code = EXIT_OK
    for result in scan_paths(args.paths):
        if isinstance(result, ScanError):
            print(f"ocop-kiosk: error: {result.input}: {result.message}", file=sys.stderr)
            exit_code = EXIT_UNREADABLE
            continue
        record = _record(result, verifier, args.today)
        if args.json:
            _print_json(record)
        else:
            where = record["input"]
            if "frame_index" in record:
                where += f" @frame {record['frame_index']}"
            texts = " | ".join(record["codes"]) or "-"
            print(f"{where}: {record['verdict']} {texts} ({record['decode_ms']} ms)", flush=True)
    return exit_code
