"""Reference provincial registry for OCOP Sơn La: the one server that holds the truth.

Modules:
    config    RegistryConfig (database URL, data folder, tokens, limits)
    db        SQLAlchemy Core tables, engine from URL, change sequence, transactions
    auth      station and admin bearer tokens (stored as SHA-256)
    signing   keys, trust lists and stamp blocks, through kiosk.stamps (the only signer)
    catalog   catalog validation, import (CSV/JSON), writes with change sequence, deltas
    uploads   batch upload of scans, print records and heartbeats (idempotent)
    reports   queries for the provincial office's reports page
    partitions PostgreSQL's monthly partitions of scan events (created ahead)
    archive   `ocop-registry archive`: a month's raw scans to JSONL.gz + sha256, then gone
    pages     public stamp page and reports page (HTML, inline SVG charts)
    api       FastAPI app factory create_app(config), routes under /api/v1
    cli       `ocop-registry` command line

Import rule: the registry imports the domain package ocop/ (stamps, ratings, heartbeat wire
names, clock states); from kiosk/ only the demo catalog data, lazily, for `--demo`.
tests/test_layers.py checks that `import registry.api` loads no kiosk module.
"""

from ocop import __version__  # noqa: F401  (one version: ocop/__init__.py)
