"""Command line for the printer adapter (ops and demos; the kiosk CLI wraps the same API).

    python -m printer label --qr HTTPS://X.VN/S/1 --title "Chè Mộc Châu" --serial "Số 1" \
        --stars 4 --paper 58 --preview out.png [--printer tcp://192.168.1.50:9100 --cut]
    python -m printer status --printer usb://0416:5011
    python -m printer decode received.bin --out-dir pngs/

Exit codes: 0 ok, 2 bad input (URI, label does not fit), 3 printer fault.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ocop.paper import DOTS_BY_WIDTH_MM, PAPER_WIDTHS_MM
from printer.errors import PrinterError
from printer.label import LabelContent, LabelError, LabelLayout, render_label


def _layout(args: argparse.Namespace) -> LabelLayout:
    return LabelLayout(
        width_dots=DOTS_BY_WIDTH_MM[args.paper],
        height_mm=args.height_mm,
        module_dots=args.module_dots,
    )


def cmd_label(args: argparse.Namespace) -> int:
    content = LabelContent(
        qr_text=args.qr,
        title=args.title,
        serial_text=args.serial,
        producer=args.producer,
        district=args.district,
        stars=args.stars,
        mark_text=args.mark,
        footer=args.footer,
    )
    layout = _layout(args)
    image = render_label(content, layout)
    if args.preview:
        image.save(args.preview, format="PNG")
        print(
            f"preview: {args.preview} ({image.width}x{image.height} dots, "
            f"{layout.dots_to_mm(image.height):.1f} mm tall)"
        )
    if args.printer:
        from printer.escpos_raster import JobOptions
        from printer.session import Printer

        with Printer(
            args.printer, width_dots=layout.width_dots, job_options=JobOptions(cut=args.cut)
        ) as printer:
            result = printer.print_image(image)
        print(f"printed: {result.bytes_sent} bytes, printer {result.status_after.state.label_en}")
    if not args.preview and not args.printer:
        print("nothing to do: give --preview FILE.png and/or --printer URI", file=sys.stderr)
        return 2
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from printer.session import Printer

    with Printer(args.printer, width_dots=DOTS_BY_WIDTH_MM[args.paper]) as printer:
        status = printer.status()
    print(
        f"{status.state.label_vi} / {status.state.label_en}  "
        f"(online={status.online}, paper={status.paper.value}, cover_open={status.cover_open})"
    )
    return 0 if status.state.can_print else 3


def cmd_decode(args: argparse.Namespace) -> int:
    from printer.raster_decode import decode_images

    images = decode_images(Path(args.input).read_bytes())
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(images, start=1):
        img.save(out / f"image-{i:04d}.png", format="PNG")
    print(f"{len(images)} image(s) written to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m printer")
    sub = ap.add_subparsers(dest="command", required=True)

    lab = sub.add_parser("label", help="render one label; preview as PNG and/or print it")
    lab.add_argument("--qr", required=True)
    lab.add_argument("--title", required=True)
    lab.add_argument("--serial", required=True)
    lab.add_argument("--producer", default="")
    lab.add_argument("--district", default="")
    lab.add_argument("--stars", type=int, default=None)
    lab.add_argument("--mark", default="OCOP Sơn La")
    lab.add_argument("--footer", default="")
    lab.add_argument("--paper", type=int, choices=PAPER_WIDTHS_MM, default=58)
    lab.add_argument("--height-mm", type=float, default=None)
    lab.add_argument("--module-dots", type=int, default=None)
    lab.add_argument("--preview", metavar="OUT.png")
    lab.add_argument("--printer", metavar="URI")
    lab.add_argument("--cut", action="store_true")
    lab.set_defaults(func=cmd_label)

    st = sub.add_parser("status", help="ask a printer for its status")
    st.add_argument("--printer", required=True, metavar="URI")
    st.add_argument("--paper", type=int, choices=PAPER_WIDTHS_MM, default=58)
    st.set_defaults(func=cmd_status)

    de = sub.add_parser("decode", help="turn captured ESC/POS bytes back into PNG images")
    de.add_argument("input")
    de.add_argument("--out-dir", default=".")
    de.set_defaults(func=cmd_decode)

    args = ap.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except PrinterError as err:
        print(
            f"{err.staff_message_vi}\n{err.staff_message_en}\n({err.code}: {err.detail})",
            file=sys.stderr,
        )
        return 2 if err.code == "bad_uri" else 3
    except LabelError as err:
        print(f"label: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
