"""The registry's HTTP routes by area, one APIRouter each (registry/api.py wires them):

    public     /api/v1/health, /trust-list, /media/{sha256}       no token
    stations   /api/v1/catalog/changes, /stations/me, /stamp-blocks, /uploads
    admin      /api/v1/admin/...                                  the admin token
    pages      /, the stamp page, /reports, /static/style.css     HTML

Handlers take what they need as dependencies (registry/deps.py) and reach the database
only through registry/dal (and the signing, uploads and reports services built on it).
"""

API = "/api/v1"  # the JSON API's prefix (the version is part of every URL)
