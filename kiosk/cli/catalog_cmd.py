"""`ocop-kiosk catalog list|show|search`: read the local catalog."""

from __future__ import annotations

from kiosk.catalog import Catalog, ProductView
from kiosk.cli.output import print_json_line, print_table
from ocop.errors import NotFound, UserError


def register(sub) -> None:
    parser = sub.add_parser(
        "catalog",
        help="list, show and search products",
        description="Read the local product catalog.",
    )
    csub = parser.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    p = csub.add_parser("list", help="all products")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--district", help="only products from this district")
    p.add_argument(
        "--group",
        type=int,
        choices=range(1, 7),
        metavar="1-6",
        help="only this Decision 148 product group",
    )
    p.set_defaults(handler=handle_list)
    p = csub.add_parser("show", help="one product by id or GTIN")
    p.add_argument("id", help="product id (e.g. 101) or GTIN")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=handle_show)
    p = csub.add_parser(
        "search", help="search names, producers and places (diacritics and case ignored)"
    )
    p.add_argument("text")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(handler=handle_search)


def _catalog(ctx) -> Catalog:
    return Catalog(ctx.store())


def _stars(p: ProductView) -> str:
    if p.stars:
        return "★" * p.stars
    return {"expired": "(expired)", "revoked": "(revoked)", "pending": "(pending)", "none": ""}.get(
        p.rating_status, ""
    )


def _emit(products: list[ProductView], as_json: bool) -> None:
    if as_json:
        for p in products:
            print_json_line(p.to_json())
        return
    print_table(
        ["id", "name", "district", "stars", "valid until"],
        [(p.id, p.name_vi, p.district, _stars(p), p.rating_valid_until or "") for p in products],
    )


def handle_list(args, ctx) -> int:
    catalog = _catalog(ctx)
    if args.district:
        products = catalog.by_district(args.district, args.group)
    elif args.group:
        products = catalog.by_group(args.group)
    else:
        products = catalog.all()
    _emit(products, args.json)
    return 0


def handle_show(args, ctx) -> int:
    catalog = _catalog(ctx)
    text = args.id.strip()
    if not text.isdigit():
        raise UserError(f"product id must be a number or a GTIN, got {args.id!r}")
    product = catalog.product(int(text)) if len(text) < 8 else catalog.by_gtin(text)
    if product is None:
        raise NotFound(f"no product with id or GTIN {text}")
    if args.json:
        print_json_line(product.to_json())
        return 0
    rows = [
        ("id", product.id),
        ("GTIN", product.gtin or "-"),
        ("name", product.name_vi),
        ("name (en)", product.name_en),
        ("producer", product.producer),
        ("commune", product.commune),
        ("district", product.district),
        ("group", f"{product.group} {product.group_vi} / {product.group_en}"),
        ("stars", _stars(product) or "-"),
        ("rating status", product.rating_status),
        ("recognised on", product.rating_recognised_on or "-"),
        ("valid until", product.rating_valid_until or "-"),
        ("story", product.story_vi),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    return 0


def handle_search(args, ctx) -> int:
    if not args.text.strip():
        raise UserError("search text is empty")
    _emit(_catalog(ctx).search(args.text, limit=args.limit), args.json)
    return 0
