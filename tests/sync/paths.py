"""Addressing fields inside a reply by path (("products", 0, "gtin")), as the kiosk's checks
name them ("products[0].gtin")."""

from __future__ import annotations


def paths(value, prefix=()):
    """Every path in a JSON value, the root () first."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def get_at(root, path):
    for key in path:
        root = root[key]
    return root


def set_at(root, path, value) -> None:
    get_at(root, path[:-1])[path[-1]] = value


def render(path, prefix: str = "") -> str:
    out = prefix
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out
