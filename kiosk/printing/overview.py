"""What the staff screen reads from the print service, off the UI thread: the label preview
for a product and lot, and the print queue as staff see it (recent jobs, jobs needing a
decision, their product names). No SQL outside kiosk/printing; no Kivy.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.catalog import Catalog
from kiosk.printing.queue import JobView, PrintQueue, label_content, label_layout
from kiosk.settings import Settings
from ocop.lots import LotDates

PREVIEW_TEXT_CHARS = 122  # a stamp's length after the base URL: the QR's real size
RECENT_JOBS = 8


def label_preview_rgb(
    catalog: Catalog, settings: Settings, product_id: int, lot: str, dates: LotDates | None = None
) -> tuple[tuple[int, int], bytes]:
    """The label this station would print for the product, lot and its dates, with a sample
    stamp of full length: ((width, height), RGB bytes)."""
    from printer import render_label

    product = catalog.product(product_id)
    sample = settings.stamps.base_url + "A" * PREVIEW_TEXT_CHARS
    image = render_label(
        label_content(product, product_id, sample, 0, lot, dates), label_layout(settings)
    )
    rgb = image.convert("RGB")
    return rgb.size, rgb.tobytes()


@dataclass(frozen=True)
class QueueOverview:
    recent: list[JobView]  # the newest jobs, newest first
    attention: list[JobView]  # jobs needing a decision, oldest first
    names: dict[int, str]  # product id -> name, for recent and the first

    @classmethod
    def empty(cls) -> QueueOverview:
        return cls([], [], {})


def read_overview(
    queue: PrintQueue, catalog: Catalog, lang: str, recent: int = RECENT_JOBS
) -> QueueOverview:
    """The queue tab's data: the newest jobs and every job needing attention
    (kiosk.printing.queue.needs_attention), the oldest first (it has waited longest)."""
    jobs = queue.jobs(limit=recent)
    attention = list(reversed(queue.attention_jobs()))
    names: dict[int, str] = {}
    for job in jobs + attention[:1]:
        if job.product_id not in names:
            product = catalog.product(job.product_id)
            names[job.product_id] = product.name(lang) if product else f"#{job.product_id}"
    return QueueOverview(jobs, attention, names)
