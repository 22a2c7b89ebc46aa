"""The console's Catalog section: products (search, filters, pages), producers, a product's
ratings, photo and deletion.

Every change goes through the catalog's one write path (registry/dal/catalog.py
`validate_and_write`: the validation of registry/catalog.py that the JSON admin API and the
import use, and the change sequence kiosks sync by), with its audit row in the same
transaction. Viewers see the same pages read-only; every POST needs the editor role
(revoking a deleted product's stamps: administrator, like the API's revocations).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from ocop import wire
from ocop.clock import vietnam_day
from ocop.ratings import GROUP_NAMES, LEVEL_BY_STARS, RatingStatus, effective_rating_status
from ocop.stamps.codec import MAX_PRODUCT_ID
from ocop.text import fold
from registry import audit, catalog, console_text, geo, signing
from registry.admins import AdminRole
from registry.audit import AuditAction
from registry.catalog import CatalogError
from registry.dal import catalog as catalog_rows
from registry.deps import (
    ConfigDep,
    ConsoleCaller,
    ConsoleDep,
    DatabaseDep,
    KeyRingDep,
    RoleRefused,
    client_address,
    needs_role,
)
from registry.i18n import N_
from registry.routes.console import Section, language, render
from registry.schemas import NAME_PATTERN

SECTIONS = (Section.CATALOG,)
router = APIRouter(include_in_schema=False)

BASE = Section.CATALOG.href
PRODUCTS = f"{BASE}/products"
PRODUCERS = f"{BASE}/producers"
PAGE_ROWS = 50
PHOTO_MAX_SIDE_PX = 1600  # the stored picture's longest side after the crop
PHOTO_JPEG_QUALITY = 85
# A small file may unpack to a huge picture (a "decompression bomb"): refused unread.
PHOTO_MAX_PIXELS = 50_000_000
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
ProductId = Annotated[int, Path(ge=1, le=MAX_PRODUCT_ID)]
ProducerId = Annotated[str, Path(pattern=NAME_PATTERN)]

PRODUCER_KIND_LABELS = {
    wire.ProducerKind.COOPERATIVE.value: N_("Cooperative"),
    wire.ProducerKind.COMPANY.value: N_("Enterprise"),
    wire.ProducerKind.HOUSEHOLD.value: N_("Household"),
    wire.ProducerKind.COOP_GROUP.value: N_("Cooperative group"),
    wire.ProducerKind.OTHER.value: N_("Other"),
}
LEVEL_LABELS = {
    "district": N_("District level"),
    "province": N_("Province level"),
    "national": N_("National level"),
}
STATUS_LABELS = {
    RatingStatus.VALID: N_("Valid"),
    RatingStatus.EXPIRED: N_("Expired"),
    RatingStatus.REVOKED: N_("Revoked"),
    RatingStatus.PENDING: N_("Stars pending"),
    RatingStatus.NONE: N_("No rating"),
}
# A problem's field (the last part of its path, products[0].ratings[0].valid_until) -> label.
FIELD_LABELS = {
    "id": N_("Code"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "commune": N_("Commune"),
    "district": N_("District"),
    "address": N_("Address"),
    "phone": N_("Phone"),
    "gtin": N_("GTIN (barcode)"),
    "name_vi": N_("Name (Vietnamese)"),
    "name_en": N_("Name (English)"),
    "group": N_("Product group"),
    "subgroup": N_("Sub-group"),
    "description_vi": N_("Description (Vietnamese)"),
    "description_en": N_("Description (English)"),
    "story_vi": N_("Story (Vietnamese)"),
    "story_en": N_("Story (English)"),
    "producer": N_("Producer"),
    "image_hash": N_("Photo"),
    "stars": N_("Stars"),
    "level": N_("Level"),
    "body": N_("Deciding body"),
    "decision_no": N_("Decision number"),
    "recognised_on": N_("Decision date"),
    "valid_until": N_("Valid until"),
    "status": N_("Status"),
}


# ---- small helpers ------------------------------------------------------------------------


async def _form_fields(request: Request) -> dict[str, Any]:
    """The posted form (text fields as stripped strings, files as UploadFile)."""
    form = await request.form()
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        out[key] = value.strip() if isinstance(value, str) else value
    return out


FormDep = Annotated[dict[str, Any], Depends(_form_fields)]


def _may_edit(caller: ConsoleCaller) -> bool:
    return caller.principal.role.allows(AdminRole.EDITOR)


def _field_of(path: str) -> str:
    return re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1]) if path else ""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    label: str
    message: str


def _problems(request: Request, exc: CatalogError) -> list[FieldProblem]:
    """The validator's problems, in the page's language, by the form's field names."""
    lang = language(request)
    out = []
    for p in exc.details:
        name = _field_of(p.path)
        label = console_text.gettext(lang, FIELD_LABELS.get(name, name)) if name else ""
        out.append(FieldProblem(name, label, p.message(lang)))
    return out


def _status_of(rating: dict | None, today: dt.date) -> RatingStatus:
    if rating is None:
        return RatingStatus.NONE
    return effective_rating_status(
        rating["status"], rating["stars"], rating["valid_until"], today, rating["recognised_on"]
    )


def _today() -> dt.date:
    """The day ratings are judged on: the province's (like the kiosks' star rule)."""
    return vietnam_day(dt.datetime.now(dt.UTC))


def _redirect(path: str, **query: str) -> RedirectResponse:
    return RedirectResponse(path + (f"?{urlencode(query)}" if query else ""), status_code=303)


def _common(caller: ConsoleCaller) -> dict:
    return {
        "section": Section.CATALOG,
        "may_edit": _may_edit(caller),
        "districts": list(geo.CENTROIDS),
        "groups": GROUP_NAMES,
        "kinds": PRODUCER_KIND_LABELS,
        "levels": LEVEL_LABELS,
        "status_labels": STATUS_LABELS,
        "base": BASE,
        "products_href": PRODUCTS,
        "producers_href": PRODUCERS,
    }


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


# ---- products list --------------------------------------------------------------------------


def _list_message(request: Request) -> str:
    """What the last action did (codes and numbers in the URL, never text to show)."""
    params = request.query_params
    product_id, revoked = params.get("id", ""), params.get("revoked", "")
    if params.get("done") != "deleted" or not product_id.isdigit():
        return ""
    lang = language(request)
    if revoked.isdigit():
        return console_text.gettext(
            lang,
            N_("Product {id} was deleted and its {count} stamps revoked."),
            id=product_id,
            count=revoked,
        )
    return console_text.gettext(lang, N_("Product {id} was deleted."), id=product_id)


@needs_role(AdminRole.VIEWER)
def products_page(request: Request, caller: ConsoleDep, database: DatabaseDep) -> Response:
    params = request.query_params
    query = params.get("q", "")[:100]
    district = params.get("district", "")
    district = district if district in geo.CENTROIDS else ""
    stars_raw = params.get("stars", "")
    stars = int(stars_raw) if stars_raw in ("3", "4", "5") else None
    page = _page_number(params.get("page"))
    with database.read() as conn:
        rows, total = catalog_rows.list_products(
            conn,
            query=query,
            district=district,
            stars=stars,
            offset=(page - 1) * PAGE_ROWS,
            limit=PAGE_ROWS,
        )
    today = _today()
    listed = []
    for row in rows:
        rating = catalog.current_rating(row.ratings)
        listed.append((row, rating, _status_of(rating, today)))
    pages = max(1, math.ceil(total / PAGE_ROWS))
    keep = {k: v for k, v in (("q", query), ("district", district), ("stars", stars_raw)) if v}
    return render(
        request,
        "catalog_products.html",
        caller,
        Section.CATALOG.slug,
        rows=listed,
        total=total,
        page=page,
        pages=pages,
        prev_href=f"{BASE}?{urlencode({**keep, 'page': page - 1})}" if page > 1 else "",
        next_href=f"{BASE}?{urlencode({**keep, 'page': page + 1})}" if page < pages else "",
        query=query,
        district=district,
        stars=stars,
        message=_list_message(request),
        **_common(caller),
    )


# ---- products: create, edit -----------------------------------------------------------------

PRODUCT_TEXT_FIELDS = (
    "name_vi",
    "name_en",
    "subgroup",
    "gtin",
    "producer",
    "commune",
    "district",
    "description_vi",
    "description_en",
    "story_vi",
    "story_en",
)


def _product_from_form(fields: dict[str, Any], base: dict) -> dict:
    """The wire document of a product after its form (what the form does not show, like
    ratings and the photo, as it was). Text as typed: the validator reads it leniently."""
    doc = dict(base)
    for name in PRODUCT_TEXT_FIELDS:
        doc[name] = fields.get(name, "")
    doc["group"] = fields.get("group", "")
    doc["featured"] = fields.get("featured") == "1"
    doc["gtin"] = doc["gtin"] or None
    doc.pop("updated_at", None)
    return doc


def _product_form(
    request: Request,
    caller: ConsoleCaller,
    database,
    product: dict,
    *,
    is_new: bool,
    problems: list[FieldProblem] = (),  # type: ignore[assignment]
    status: int = 200,
    message: str = "",
) -> Response:
    today = _today()
    with database.read() as conn:
        producers = catalog_rows.producer_choices(conn)
        subgroups = catalog_rows.subgroups_in_use(conn)
        stamps = [] if is_new else catalog_rows.issued_blocks(conn, product["id"])
        revocations = (
            []
            if is_new
            else audit.recent(conn, 50, AuditAction.RATING_REVOKE, f"product:{product['id']}")
        )
    reasons: dict[int, str] = {}
    for entry in reversed(revocations):  # the newest reason of each position wins
        reasons[int(entry.detail.get("position", -1))] = str(entry.detail.get("reason", ""))
    ratings = [(i, r, _status_of(r, today)) for i, r in enumerate(product.get("ratings", []))]
    return render(
        request,
        "catalog_product.html",
        caller,
        Section.CATALOG.slug,
        status=status,
        product=product,
        is_new=is_new,
        producers=producers,
        subgroups=subgroups,
        ratings=ratings,
        reasons=reasons,
        stamp_count=sum(b.count for b in stamps),
        problems=problems,
        invalid={p.field for p in problems},
        message=message,
        max_photo_mib=request.app.state.config.limits.max_media_bytes // (1024 * 1024),
        level_by_stars=LEVEL_BY_STARS,
        **_common(caller),
    )


def _refused(
    request: Request, caller: ConsoleCaller, database, doc: dict, problems: list[FieldProblem]
) -> Response:
    """An existing product's page again with what was refused (422): the form's, a rating's,
    a revocation's or the photo's."""
    return _product_form(
        request, caller, database, doc, is_new=False, problems=problems, status=422
    )


def _blank_product() -> dict:
    doc: dict[str, Any] = {f.name: f.default for f in catalog.written_fields(wire.PRODUCT)}
    doc |= {"id": None, "group": 1, "ratings": [], "featured": False, "is_demo": False}
    return doc


@needs_role(AdminRole.EDITOR)
def new_product_page(request: Request, caller: ConsoleDep, database: DatabaseDep) -> Response:
    return _product_form(request, caller, database, _blank_product(), is_new=True)


@needs_role(AdminRole.EDITOR)
def create_product(
    request: Request, caller: ConsoleDep, database: DatabaseDep, fields: FormDep
) -> Response:
    doc = _product_from_form(fields, _blank_product())
    try:
        with database.write() as conn:
            doc["id"] = catalog_rows.next_product_id(conn)
            summary = catalog_rows.validate_and_write(conn, {"products": [doc]})
            _audit_write(conn, caller, request, f"product:{doc['id']}", summary)
    except CatalogError as exc:
        doc["id"] = None
        return _product_form(
            request,
            caller,
            database,
            doc,
            is_new=True,
            problems=_problems(request, exc),
            status=422,
        )
    return _redirect(f"{PRODUCTS}/{doc['id']}", done="saved")


def _audit_write(conn, caller: ConsoleCaller, request: Request, target: str, summary) -> None:
    audit.record(
        conn,
        caller.principal.name,
        AuditAction.CATALOG_WRITE,
        target,
        client_address(request),
        {"created": summary.created, "updated": summary.updated, "via": "console"},
    )


def _stored_product(database, product_id: int) -> dict:
    with database.read() as conn:
        found = catalog_rows.get_product(conn, product_id)
    if found is None:
        raise HTTPException(404, f"no product {product_id}")
    return found


MESSAGES = {
    "saved": N_("Saved."),
    "unchanged": N_("Nothing to save: no field changed."),
    "photo": N_("The photo was replaced."),
}


@needs_role(AdminRole.VIEWER)
def product_page(
    request: Request, caller: ConsoleDep, database: DatabaseDep, product_id: ProductId
) -> Response:
    product = _stored_product(database, product_id)
    message = MESSAGES.get(request.query_params.get("done", ""), "")
    return _product_form(request, caller, database, product, is_new=False, message=message)


def _save_product(
    request: Request, caller: ConsoleCaller, database, product_id: int, doc: dict
) -> Response:
    """Validate and write one whole product document (the form's, a rating's, the photo's):
    the page again with every problem (422), or back to the page with what happened."""
    try:
        with database.write() as conn:
            if not catalog_rows.product_exists(conn, product_id):
                raise HTTPException(404, f"no product {product_id}")
            summary = catalog_rows.validate_and_write(conn, {"products": [doc]})
            if summary.updated:
                _audit_write(conn, caller, request, f"product:{product_id}", summary)
    except CatalogError as exc:
        return _refused(request, caller, database, doc, _problems(request, exc))
    return _redirect(f"{PRODUCTS}/{product_id}", done="saved" if summary.updated else "unchanged")


@needs_role(AdminRole.EDITOR)
def save_product(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    fields: FormDep,
    product_id: ProductId,
) -> Response:
    stored = _stored_product(database, product_id)
    doc = _product_from_form(fields, stored)
    return _save_product(request, caller, database, product_id, doc)


# ---- ratings ---------------------------------------------------------------------------------

RATING_TEXT_FIELDS = ("stars", "level", "body", "decision_no", "recognised_on", "valid_until")


def _rating_from_form(fields: dict[str, Any], base: dict) -> dict:
    rating = dict(base)
    for name in RATING_TEXT_FIELDS:
        rating[name] = fields.get(name, "") or None
    if fields.get("status") in (RatingStatus.VALID.value, RatingStatus.EXPIRED.value):
        rating["status"] = fields["status"]
    rating.setdefault("status", RatingStatus.VALID.value)
    # The level follows from the stars (Decision 148) unless the form says otherwise.
    rating["level"] = rating["level"] or ""
    return rating


@needs_role(AdminRole.EDITOR)
def add_rating(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    fields: FormDep,
    product_id: ProductId,
) -> Response:
    doc = _stored_product(database, product_id)
    doc["ratings"] = [*doc["ratings"], _rating_from_form(fields, {})]
    return _save_product(request, caller, database, product_id, doc)


def _rating_at(doc: dict, position: int) -> dict:
    if not 0 <= position < len(doc["ratings"]):
        raise HTTPException(404, f"no rating {position}")
    return doc["ratings"][position]


@needs_role(AdminRole.EDITOR)
def save_rating(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    fields: FormDep,
    product_id: ProductId,
    position: Annotated[int, Path(ge=0, le=100)],
) -> Response:
    doc = _stored_product(database, product_id)
    old = _rating_at(doc, position)
    if old["status"] == RatingStatus.REVOKED.value:
        raise HTTPException(409, "a revoked rating is not edited")
    doc["ratings"][position] = _rating_from_form(fields, old)
    return _save_product(request, caller, database, product_id, doc)


@needs_role(AdminRole.EDITOR)
def revoke_rating(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    fields: FormDep,
    product_id: ProductId,
    position: Annotated[int, Path(ge=0, le=100)],
) -> Response:
    doc = _stored_product(database, product_id)
    rating = _rating_at(doc, position)
    reason = str(fields.get("reason", ""))[:500]
    if not reason:
        text = console_text.gettext(language(request), N_("A revocation needs a reason."))
        return _refused(request, caller, database, doc, [FieldProblem("reason", "", text)])
    rating["status"] = RatingStatus.REVOKED.value
    try:
        with database.write() as conn:
            catalog_rows.validate_and_write(conn, {"products": [doc]})
            audit.record(
                conn,
                caller.principal.name,
                AuditAction.RATING_REVOKE,
                f"product:{product_id}",
                client_address(request),
                {"position": position, "reason": reason, "stars": rating["stars"]},
            )
    except CatalogError as exc:
        stored = _stored_product(database, product_id)
        return _refused(request, caller, database, stored, _problems(request, exc))
    return _redirect(f"{PRODUCTS}/{product_id}", done="saved")


# ---- photo -----------------------------------------------------------------------------------


class PhotoRefused(ValueError):
    pass


def cropped_photo(content: bytes, box: tuple[int, int, int, int]) -> catalog.Media:
    """The uploaded picture cut to `box` (left, top, width, height in the picture's own
    pixels, after its EXIF orientation), at most PHOTO_MAX_SIDE_PX a side, as JPEG (PNG when
    it has transparency). PhotoRefused with the console's msgid."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as opened:
            if opened.format not in PHOTO_FORMATS:
                raise PhotoRefused(N_("Only JPEG, PNG or WebP pictures."))
            if opened.width * opened.height > PHOTO_MAX_PIXELS:  # before decoding it
                raise PhotoRefused(N_("The picture has more than {megapixels} megapixels."))
            picture = ImageOps.exif_transpose(opened)
            picture.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise PhotoRefused(N_("Only JPEG, PNG or WebP pictures.")) from None
    left, top, width, height = box
    if width < 1 or height < 1 or left < 0 or top < 0:
        raise PhotoRefused(N_("The crop is outside the picture."))
    if left + width > picture.width or top + height > picture.height:
        raise PhotoRefused(N_("The crop is outside the picture."))
    picture = picture.crop((left, top, left + width, top + height))
    picture.thumbnail((PHOTO_MAX_SIDE_PX, PHOTO_MAX_SIDE_PX))
    out = io.BytesIO()
    if picture.mode in ("RGBA", "LA") or "transparency" in picture.info:
        picture.save(out, "PNG", optimize=True)
        mime = "image/png"
    else:
        picture.convert("RGB").save(out, "JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
        mime = "image/jpeg"
    data = out.getvalue()
    return catalog.Media(hashlib.sha256(data).hexdigest(), mime, data)


def _crop_box(fields: dict[str, Any]) -> tuple[int, int, int, int]:
    values = []
    for name in ("crop_x", "crop_y", "crop_w", "crop_h"):
        raw = str(fields.get(name, ""))
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
            raise PhotoRefused(N_("The crop is outside the picture."))
        values.append(int(raw))
    return values[0], values[1], values[2], values[3]


@needs_role(AdminRole.EDITOR)
def upload_photo(
    request: Request,
    caller: ConsoleDep,
    config: ConfigDep,
    database: DatabaseDep,
    fields: FormDep,
    product_id: ProductId,
) -> Response:
    doc = _stored_product(database, product_id)
    upload = fields.get("photo")
    max_bytes = config.limits.max_media_bytes
    lang = language(request)
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise PhotoRefused(N_("Choose a picture."))
        content = upload.file.read(max_bytes + 1)
        if not content:
            raise PhotoRefused(N_("Choose a picture."))
        if len(content) > max_bytes:
            raise PhotoRefused(N_("The picture is larger than {mib} MiB."))
        media = cropped_photo(content, _crop_box(fields))
    except PhotoRefused as exc:
        text = console_text.gettext(
            lang,
            str(exc),
            mib=max_bytes // (1024 * 1024),
            megapixels=PHOTO_MAX_PIXELS // 1_000_000,
        )
        label = console_text.gettext(lang, N_("Photo"))
        return _refused(request, caller, database, doc, [FieldProblem("photo", label, text)])
    doc["image_hash"] = media.hash
    try:
        with database.write() as conn:
            catalog_rows.write_media(conn, [media])
            audit.record(
                conn,
                caller.principal.name,
                AuditAction.MEDIA_UPLOAD,
                f"media:{media.hash}",
                client_address(request),
                {"mime": media.mime, "size_bytes": len(media.content), "via": "console"},
            )
            summary = catalog_rows.validate_and_write(conn, {"products": [doc]})
            _audit_write(conn, caller, request, f"product:{product_id}", summary)
    except CatalogError as exc:
        stored = _stored_product(database, product_id)
        return _refused(request, caller, database, stored, _problems(request, exc))
    return _redirect(f"{PRODUCTS}/{product_id}", done="photo")


# ---- deletion --------------------------------------------------------------------------------


class StampChoice:
    KEEP = "keep"
    REVOKE = "revoke"


def _delete_page(
    request: Request, caller: ConsoleCaller, database, product_id: int, problem: str = ""
) -> Response:
    product = _stored_product(database, product_id)
    with database.read() as conn:
        blocks = catalog_rows.issued_blocks(conn, product_id)
    return render(
        request,
        "catalog_delete.html",
        caller,
        Section.CATALOG.slug,
        status=422 if problem else 200,
        product=product,
        stamp_count=sum(b.count for b in blocks),
        may_revoke=caller.principal.role.allows(AdminRole.ADMIN),
        choices=StampChoice,
        problem=problem,
        **_common(caller),
    )


@needs_role(AdminRole.EDITOR)
def delete_page(
    request: Request, caller: ConsoleDep, database: DatabaseDep, product_id: ProductId
) -> Response:
    return _delete_page(request, caller, database, product_id)


@needs_role(AdminRole.EDITOR)
def delete_product(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    fields: FormDep,
    product_id: ProductId,
) -> Response:
    """Delete a product (a tombstone for kiosks, as DELETE /api/v1/admin/products/{id});
    with issued stamps the form says whether they stay genuine or are revoked (the trust
    list's serial ranges, as POST /api/v1/admin/revocations/serials: administrator)."""
    choice = fields.get("stamps", "")
    client = client_address(request)
    with database.read() as conn:
        blocks = catalog_rows.issued_blocks(conn, product_id)
    if blocks and choice not in (StampChoice.KEEP, StampChoice.REVOKE):
        lang = language(request)
        return _delete_page(
            request,
            caller,
            database,
            product_id,
            console_text.gettext(lang, N_("Choose what happens to the stamps.")),
        )
    revoke = bool(blocks) and choice == StampChoice.REVOKE
    if revoke and not caller.principal.role.allows(AdminRole.ADMIN):
        raise RoleRefused(caller, AdminRole.ADMIN)
    with database.write() as conn:
        if not catalog_rows.delete_product(conn, product_id):
            raise HTTPException(404, f"no product {product_id}")
        audit.record(
            conn,
            caller.principal.name,
            AuditAction.CATALOG_DELETE,
            f"product:{product_id}",
            client,
            {"stamps": choice or "none", "via": "console"},
        )
        if revoke:
            ranges = [(b.first_serial, b.last_serial) for b in blocks]
            reason = f"product {product_id} deleted"
            sequence = keyring.revoke_ranges(conn, ranges, reason)
            for first, last in ranges:
                signing.audit_serials_revocation(
                    conn, caller.principal.name, client, first, last, reason, sequence
                )
    if revoke:
        revoked = str(sum(b.count for b in blocks))
        return _redirect(BASE, done="deleted", id=str(product_id), revoked=revoked)
    return _redirect(BASE, done="deleted", id=str(product_id))


# ---- producers -------------------------------------------------------------------------------

PRODUCER_TEXT_FIELDS = ("name", "kind", "commune", "district", "address", "phone")


def _slug(name: str) -> str:
    """'HTX Bích Thảo' -> 'htx-bich-thao' (a producer code when none is typed)."""
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:64]


@needs_role(AdminRole.VIEWER)
def producers_page(request: Request, caller: ConsoleDep, database: DatabaseDep) -> Response:
    query = request.query_params.get("q", "")[:100]
    page = _page_number(request.query_params.get("page"))
    with database.read() as conn:
        rows, total = catalog_rows.list_producers(
            conn, query=query, offset=(page - 1) * PAGE_ROWS, limit=PAGE_ROWS
        )
    pages = max(1, math.ceil(total / PAGE_ROWS))
    keep = {"q": query} if query else {}
    return render(
        request,
        "catalog_producers.html",
        caller,
        Section.CATALOG.slug,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        prev_href=f"{PRODUCERS}?{urlencode({**keep, 'page': page - 1})}" if page > 1 else "",
        next_href=f"{PRODUCERS}?{urlencode({**keep, 'page': page + 1})}" if page < pages else "",
        query=query,
        **_common(caller),
    )


def _producer_form(
    request: Request,
    caller: ConsoleCaller,
    producer: dict,
    *,
    is_new: bool,
    problems: list[FieldProblem] = (),  # type: ignore[assignment]
    status: int = 200,
    message: str = "",
) -> Response:
    return render(
        request,
        "catalog_producer.html",
        caller,
        Section.CATALOG.slug,
        status=status,
        producer=producer,
        is_new=is_new,
        problems=problems,
        invalid={p.field for p in problems},
        message=message,
        **_common(caller),
    )


def _blank_producer() -> dict:
    doc: dict[str, Any] = {f.name: f.default for f in catalog.written_fields(wire.PRODUCER)}
    return doc | {"id": "", "kind": wire.ProducerKind.COOPERATIVE.value, "contact_person": ""}


def _producer_from_form(fields: dict[str, Any], base: dict) -> dict:
    doc = dict(base)
    for name in PRODUCER_TEXT_FIELDS:
        doc[name] = fields.get(name, "")
    doc["contact_person"] = str(fields.get("contact_person", ""))[:200]
    doc.pop("updated_at", None)
    return doc


def _write_producer(
    request: Request, caller: ConsoleCaller, database, doc: dict, *, is_new: bool
) -> Response:
    wire_doc = {k: v for k, v in doc.items() if k != "contact_person"}
    try:
        with database.write() as conn:
            exists = catalog_rows.get_producer(conn, doc["id"]) is not None
            if is_new and exists:
                lang = language(request)
                taken = FieldProblem(
                    "id",
                    console_text.gettext(lang, N_("Code")),
                    console_text.gettext(
                        lang, N_("A producer with the code {id} exists already."), id=doc["id"]
                    ),
                )
                return _producer_form(
                    request, caller, doc, is_new=True, problems=[taken], status=422
                )
            if not is_new and not exists:
                raise HTTPException(404, f"no producer {doc['id']}")
            summary = catalog_rows.validate_and_write(conn, {"producers": [wire_doc]})
            contact = catalog_rows.set_contact_person(conn, doc["id"], doc["contact_person"])
            if summary.created or summary.updated or contact:
                audit.record(
                    conn,
                    caller.principal.name,
                    AuditAction.CATALOG_WRITE,
                    f"producer:{doc['id']}",
                    client_address(request),
                    {
                        "created": summary.created,
                        "updated": summary.updated,
                        "contact_person": contact,
                        "via": "console",
                    },
                )
    except CatalogError as exc:
        return _producer_form(
            request, caller, doc, is_new=is_new, problems=_problems(request, exc), status=422
        )
    changed = summary.created or summary.updated or contact
    return _redirect(f"{PRODUCERS}/{doc['id']}", done="saved" if changed else "unchanged")


@needs_role(AdminRole.EDITOR)
def new_producer_page(request: Request, caller: ConsoleDep) -> Response:
    return _producer_form(request, caller, _blank_producer(), is_new=True)


@needs_role(AdminRole.EDITOR)
def create_producer(
    request: Request, caller: ConsoleDep, database: DatabaseDep, fields: FormDep
) -> Response:
    doc = _producer_from_form(fields, _blank_producer())
    doc["id"] = str(fields.get("id", "")).lower() or _slug(str(fields.get("name", "")))
    return _write_producer(request, caller, database, doc, is_new=True)


def _stored_producer(database, producer_id: str) -> dict:
    with database.read() as conn:
        row = catalog_rows.get_producer(conn, producer_id)
        if row is None:
            raise HTTPException(404, f"no producer {producer_id}")
        return catalog.producer_to_wire(row) | {"contact_person": row.contact_person}


@needs_role(AdminRole.VIEWER)
def producer_page(
    request: Request, caller: ConsoleDep, database: DatabaseDep, producer_id: ProducerId
) -> Response:
    message = MESSAGES.get(request.query_params.get("done", ""), "")
    producer = _stored_producer(database, producer_id)
    return _producer_form(request, caller, producer, is_new=False, message=message)


@needs_role(AdminRole.EDITOR)
def save_producer(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    fields: FormDep,
    producer_id: ProducerId,
) -> Response:
    doc = _producer_from_form(fields, _stored_producer(database, producer_id))
    return _write_producer(request, caller, database, doc, is_new=False)


# ---- wiring ----------------------------------------------------------------------------------

router.add_api_route(BASE, products_page, methods=["GET"])
router.add_api_route(f"{PRODUCTS}/new", new_product_page, methods=["GET"])
router.add_api_route(f"{PRODUCTS}/new", create_product, methods=["POST"])
router.add_api_route(f"{PRODUCTS}/{{product_id}}", product_page, methods=["GET"])
router.add_api_route(f"{PRODUCTS}/{{product_id}}", save_product, methods=["POST"])
router.add_api_route(f"{PRODUCTS}/{{product_id}}/ratings", add_rating, methods=["POST"])
router.add_api_route(
    f"{PRODUCTS}/{{product_id}}/ratings/{{position}}", save_rating, methods=["POST"]
)
router.add_api_route(
    f"{PRODUCTS}/{{product_id}}/ratings/{{position}}/revoke", revoke_rating, methods=["POST"]
)
router.add_api_route(f"{PRODUCTS}/{{product_id}}/photo", upload_photo, methods=["POST"])
router.add_api_route(f"{PRODUCTS}/{{product_id}}/delete", delete_page, methods=["GET"])
router.add_api_route(f"{PRODUCTS}/{{product_id}}/delete", delete_product, methods=["POST"])
router.add_api_route(PRODUCERS, producers_page, methods=["GET"])
router.add_api_route(f"{PRODUCERS}/new", new_producer_page, methods=["GET"])
router.add_api_route(f"{PRODUCERS}/new", create_producer, methods=["POST"])
router.add_api_route(f"{PRODUCERS}/{{producer_id}}", producer_page, methods=["GET"])
router.add_api_route(f"{PRODUCERS}/{{producer_id}}", save_producer, methods=["POST"])
