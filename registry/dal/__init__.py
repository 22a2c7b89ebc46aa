"""The registry's data-access layer: every SQL statement the registry runs, by area.

    catalog    producers, products, ratings, media, tombstones; catalog deltas
    stations   stations and their tokens (hashes only)
    keys       signing keys, revocations, trust lists, stamp blocks
    events     uploaded scans and print records (keys in event_keys), heartbeats: the
               newest per station and a summary per station and day
    reports    the provincial office's report queries

Functions take a Connection from `Database.read()` or `Database.write()` (registry/db.py):
the caller chooses the transaction, so one request is one transaction and the change_seq
ordering rules in db.py hold. Route handlers and the service modules (signing, uploads,
reports, pages, cli) call these and never build SQL themselves. The counters and meta
helpers stay in db.py, next to the transaction rules they implement.
"""
