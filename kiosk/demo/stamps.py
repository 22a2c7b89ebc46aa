"""The demo stamp pictures the demo camera can hold up, made once per data folder.

<data_dir>/demo-stamps/ holds PNGs (640x480) and index.json: genuine stamps issued by the
local demo registry for a 5-star and a 4-star product, a genuine stamp of a product whose
rating expired, a forged copy (one signature character changed), a product barcode (GTIN)
and a QR that is not an OCOP stamp. Which products: the demo catalog's "demo_stamps" lists
(kiosk/demo/catalog.json), the first that still fits, else any product in the store that
fits. The same folder works as `camera.replay_path`. No Kivy here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.i18n import N_

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

DEMO_DIRNAME = "demo-stamps"
NOT_OCOP_TEXT = "HTTPS://EXAMPLE.COM/KHUYEN-MAI?MA=2024"


@dataclass(frozen=True)
class DemoStamp:
    key: str  # genuine | genuine4 | expired | forged | barcode | not_ocop
    label: str  # msgid for the button
    text: str  # what the QR holds
    path: Path  # the 640x480 picture


DEMO_LABELS = {  # msgids (translated by the scan screen)
    "genuine": N_("Genuine stamp, 5 stars"),
    "genuine4": N_("Genuine stamp, 4 stars"),
    "expired": N_("Genuine stamp, rating expired"),
    "forged": N_("Forged stamp"),
    "barcode": N_("Product barcode"),
    "not_ocop": N_("Some other QR code"),
}

# What each product-based picture needs of its product.
PRODUCT_FITS: dict[str, Callable] = {
    "genuine": lambda p: p.stars == 5,
    "genuine4": lambda p: p.stars == 4,
    "expired": lambda p: p.rating_status == "expired",
    "barcode": lambda p: bool(p.gtin),
}
ISSUED_KEYS = ("genuine", "genuine4", "expired")  # a stamp is issued for these


def demo_stamp_products(products: dict) -> dict:
    """key -> the product (of `products`, id -> ProductView) each picture shows, or None."""
    from kiosk.demo.seed import load_demo_catalog

    preferred = load_demo_catalog().get("demo_stamps", {})
    chosen = {}
    for key, fits in PRODUCT_FITS.items():
        ids = [pid for pid in preferred.get(key, ()) if pid in products]
        chosen[key] = next(
            (products[pid] for pid in ids if fits(products[pid])),
            next((p for p in products.values() if fits(p)), None),
        )
    return chosen


def _read_index(folder: Path) -> list[DemoStamp] | None:
    index = folder / "index.json"
    if not index.exists():
        return None
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
        stamps = [
            DemoStamp(e["key"], DEMO_LABELS.get(e["key"], e["key"]), e["text"], folder / e["file"])
            for e in entries
        ]
    except (ValueError, KeyError, OSError):
        log.warning("demo stamp index unreadable; making it again")
        return None
    return stamps if all(s.path.exists() for s in stamps) else None


def _write_png(path: Path, bgr: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(bgr[:, :, ::-1].copy()).save(path, format="PNG", optimize=True)


def _forge(text: str) -> str:
    """Change one character in the signature part, keeping the text canonical (a digit for
    a digit in the current spelling, base32 for base32 in a legacy one)."""
    i = len(text) - 30
    if text[i].isdigit() and text[-1].isdigit():
        replacement = "1" if text[i] != "1" else "2"
    else:
        replacement = "A" if text[i] != "A" else "B"
    return text[:i] + replacement + text[i + 1 :]


def _caption(key: str) -> str:
    return {"barcode": "GTIN", "not_ocop": "QR"}.get(key, "OCOP Sơn La")


def prepare_demo_stamps(store, settings, data_dir: Path) -> list[DemoStamp]:
    """The demo stamp pictures for this data folder; made on first call (needs demo keys).
    Returns [] when the folder has no demo registry (a real kiosk)."""
    folder = Path(data_dir) / DEMO_DIRNAME
    stamps = _read_index(folder)
    if stamps is not None:
        return stamps
    from kiosk.catalog import Catalog
    from kiosk.demo.camera import stamp_picture
    from kiosk.stamps.demo import load_demo_signer
    from kiosk.stamps.service import take_stamps

    signer = load_demo_signer(store, data_dir, settings)
    if signer is None:
        return []
    chosen = demo_stamp_products({p.id: p for p in Catalog(store).all()})
    texts: dict[str, str] = {}
    with store.transaction() as conn:
        for key in ISSUED_KEYS:
            if chosen[key] is not None:
                issued = take_stamps(conn, chosen[key].id, 1, state="printed", demo_signer=signer)
                texts[key] = issued[0].text
    if "genuine" in texts:
        texts["forged"] = _forge(texts["genuine"])
    if chosen["barcode"] is not None:
        texts["barcode"] = chosen["barcode"].gtin
    texts["not_ocop"] = NOT_OCOP_TEXT
    entries, stamps = [], []
    for n, (key, text) in enumerate(texts.items(), start=1):
        name = f"{n:02d}-{key}.png"
        _write_png(folder / name, stamp_picture(text, _caption(key), angle_deg=-4.0 + n, seed=n))
        entries.append({"key": key, "file": name, "text": text})
        stamps.append(DemoStamp(key, DEMO_LABELS[key], text, folder / name))
    (folder / "index.json").write_text(json.dumps(entries, indent=1), encoding="utf-8")
    log.info("demo stamp pictures written to %s", folder)
    return stamps
