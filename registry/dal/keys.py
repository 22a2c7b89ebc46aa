"""Signing keys (public halves only: private keys are registry/keystore.py's),
revocations, the suspect list, published trust lists and issued stamp blocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from registry import db

sk, tl, sb = db.signing_keys, db.trust_lists, db.stamp_blocks


# --- signing keys ---------------------------------------------------------------------------


def signing_keys(conn: Connection) -> list[Row]:
    return list(conn.execute(sa.select(sk).order_by(sk.c.key_id)))


def signing_key_exists(conn: Connection, key_id: int) -> bool:
    return conn.execute(sa.select(sk.c.key_id).where(sk.c.key_id == key_id)).first() is not None


def next_key_id(conn: Connection) -> int:
    """One above the highest key id ever used (ids are never reused), under the lock."""
    return db.allocate_next(conn, db.Allocator.SIGNING_KEY_ID, sk.c.key_id)


def add_signing_key(conn: Connection, key_id: int, public_key: str, valid_from: dt.date) -> None:
    conn.execute(
        sk.insert().values(
            key_id=key_id,
            public_key=public_key,
            valid_from=valid_from.isoformat(),
            valid_until=None,
            created_at=db.utc_now(),
        )
    )


def set_valid_from(conn: Connection, key_id: int, day: dt.date) -> None:
    """An emergency rotation starts the pre-published key early."""
    conn.execute(sk.update().where(sk.c.key_id == key_id).values(valid_from=day.isoformat()))


def close_key_window(conn: Connection, key_id: int, day: dt.date) -> None:
    """The key signs nothing issued from `day` on (an earlier end stays)."""
    conn.execute(
        sk.update()
        .where(
            sk.c.key_id == key_id,
            sa.or_(sk.c.valid_until.is_(None), sk.c.valid_until > day.isoformat()),
        )
        .values(valid_until=day.isoformat())
    )


# --- revocations and suspects ---------------------------------------------------------------


def add_revoked_range(conn: Connection, first: int, last: int, reason: str) -> None:
    conn.execute(
        db.revoked_ranges.insert().values(
            first_serial=first, last_serial=last, reason=reason, created_at=db.utc_now()
        )
    )


def revoked_ranges(conn: Connection) -> list[Row]:
    return list(conn.execute(sa.select(db.revoked_ranges)))


def set_key_revocation(
    conn: Connection, key_id: int, revoked_from: dt.date, last_good_serial: int | None, reason: str
) -> None:
    """Revoke a key (replacing an earlier revocation of the same key)."""
    rk = db.revoked_keys
    conn.execute(rk.delete().where(rk.c.key_id == key_id))
    conn.execute(
        rk.insert().values(
            key_id=key_id,
            revoked_from=revoked_from.isoformat(),
            last_good_serial=last_good_serial,
            reason=reason,
            created_at=db.utc_now(),
        )
    )


def revoked_keys(conn: Connection) -> list[Row]:
    return list(conn.execute(sa.select(db.revoked_keys)))


def is_key_revoked(conn: Connection, key_id: int) -> bool:
    rk = db.revoked_keys
    return conn.execute(sa.select(rk.c.key_id).where(rk.c.key_id == key_id)).first() is not None


def add_suspects(conn: Connection, serials: Iterable[int], reason: str) -> int:
    """Put serials on the suspect list (those already on it keep their reason); returns how
    many were new."""
    ss = db.suspect_serials
    wanted = set(serials)
    have = set(conn.execute(sa.select(ss.c.serial).where(ss.c.serial.in_(wanted))).scalars())
    new = sorted(wanted - have)
    if new:
        conn.execute(
            ss.insert(), [{"serial": s, "reason": reason, "created_at": db.utc_now()} for s in new]
        )
    return len(new)


def remove_suspects(conn: Connection, serials: Iterable[int]) -> list[int]:
    """Take serials off the suspect list; returns those that were on it."""
    ss = db.suspect_serials
    wanted = sorted(set(serials))
    have = sorted(conn.execute(sa.select(ss.c.serial).where(ss.c.serial.in_(wanted))).scalars())
    if have:
        conn.execute(ss.delete().where(ss.c.serial.in_(have)))
    return have


def suspect_serials(conn: Connection) -> list[int]:
    return list(conn.execute(sa.select(db.suspect_serials.c.serial)).scalars())


# --- the chain above trust lists: delegations, root successions ----------------------------


def add_delegation(conn: Connection, list_public_key: str, valid_until: str, signed: str) -> None:
    conn.execute(
        db.delegations.insert().values(
            list_public_key=list_public_key,
            valid_until=valid_until,
            signed_json=signed,
            created_at=db.utc_now(),
        )
    )


def current_delegation(conn: Connection) -> Row | None:
    """The newest delegation (the one lists are signed under), or None."""
    d = db.delegations
    return conn.execute(sa.select(d).order_by(d.c.id.desc()).limit(1)).first()


def add_root_succession(conn: Connection, new_root_public_key: str, signed: str) -> None:
    conn.execute(
        db.root_successions.insert().values(
            new_root_public_key=new_root_public_key, signed_json=signed, created_at=db.utc_now()
        )
    )


def root_successions(conn: Connection) -> list[str]:
    """Every succession (signed JSON), oldest first: each envelope carries them all."""
    r = db.root_successions
    return list(conn.execute(sa.select(r.c.signed_json).order_by(r.c.id)).scalars())


# --- trust lists ----------------------------------------------------------------------------


META_TRUST_FLOOR = "trust_sequence_floor"


def last_trust_sequence(conn: Connection) -> int:
    """The sequence the last list took, or would have below the floor (no lock: a read)."""
    newest = conn.execute(sa.select(sa.func.max(tl.c.sequence))).scalar() or 0
    return max(newest, int(db.get_meta(conn, META_TRUST_FLOOR) or 0) - 1)


def next_trust_sequence(conn: Connection) -> int:
    """One above the newest published list, and at least the floor a new epoch set;
    under the lock (the floor is read after it too)."""
    db.lock_allocator(conn, db.Allocator.TRUST_LIST_SEQUENCE)
    floor = int(db.get_meta(conn, META_TRUST_FLOOR) or 0)
    return db.allocate_next(conn, db.Allocator.TRUST_LIST_SEQUENCE, tl.c.sequence, floor)


def raise_trust_sequence_floor(conn: Connection, floor: int) -> None:
    """The next published list gets sequence >= floor (registry/epoch.py: a restored
    registry continues above every sequence its kiosks have seen)."""
    if floor > int(db.get_meta(conn, META_TRUST_FLOOR) or 0):
        db.set_meta(conn, META_TRUST_FLOOR, str(floor))


def add_trust_list(conn: Connection, sequence: int, signed_json: str) -> None:
    db.note_raised(conn)
    conn.execute(
        tl.insert().values(sequence=sequence, signed_json=signed_json, created_at=db.utc_now())
    )


def latest_trust_list(conn: Connection) -> tuple[int, str] | None:
    """(sequence, signed JSON) of the newest published trust list, or None."""
    row = conn.execute(
        sa.select(tl.c.sequence, tl.c.signed_json).order_by(tl.c.sequence.desc()).limit(1)
    ).first()
    return None if row is None else (row.sequence, row.signed_json)


# --- stamp blocks ---------------------------------------------------------------------------


def block_for_request(conn: Connection, station_id: int, request_id: str) -> Row | None:
    return conn.execute(
        sa.select(sb).where(sb.c.station_id == station_id, sb.c.request_id == request_id)
    ).first()


def add_block(
    conn: Connection,
    *,
    station_id: int,
    request_id: str,
    product_id: int,
    key_id: int,
    issued_on: str,
    first_serial: int,
    count: int,
    signing_until: str | None = None,
) -> Row:
    result = conn.execute(
        sb.insert().values(
            signing_until=signing_until,
            station_id=station_id,
            request_id=request_id,
            product_id=product_id,
            key_id=key_id,
            issued_on=issued_on,
            first_serial=first_serial,
            last_serial=first_serial + count - 1,
            count=count,
            created_at=db.utc_now(),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return conn.execute(sa.select(sb).where(sb.c.id == key[0])).one()


def take_block_lease(conn: Connection, block_id: int, old: str | None, new: str) -> bool:
    """Become the signer of a block whose lease ran out (`old`: the lease seen); False when
    another request took it or stored the reply first."""
    lease = sb.c.signing_until.is_(None) if old is None else sb.c.signing_until == old
    return bool(
        conn.execute(
            sb.update()
            .where(
                sb.c.id == block_id,
                sb.c.reply_body.is_(None),
                sb.c.reply_dropped_at.is_(None),  # pruned meanwhile: never signed again
                lease,
            )
            .values(signing_until=new)
        ).rowcount
    )


def store_block_reply(conn: Connection, block_id: int, body: bytes) -> bool:
    """Store the signed reply (compressed) unless one is stored already."""
    return bool(
        conn.execute(
            sb.update()
            .where(sb.c.id == block_id, sb.c.reply_body.is_(None), sb.c.reply_dropped_at.is_(None))
            .values(reply_body=body, signing_until=None)
        ).rowcount
    )


def block_reply(conn: Connection, block_id: int) -> bytes | None:
    return conn.execute(sa.select(sb.c.reply_body).where(sb.c.id == block_id)).scalar()


def drop_block_replies(conn: Connection, issued_before: str, now: str) -> int:
    """Drop the stored replies of blocks created before `issued_before` (TIME_FORMAT) and
    mark them dropped at `now`; blocks from before stored replies are marked too (none of
    them is signed again either). A block being signed (its lease held) is left for the
    next run. Returns how many blocks were marked."""
    return conn.execute(
        sb.update()
        .where(
            sb.c.created_at < issued_before,
            sb.c.reply_dropped_at.is_(None),
            sa.or_(sb.c.signing_until.is_(None), sb.c.signing_until < now),
        )
        .values(reply_body=None, reply_dropped_at=now)
    ).rowcount


def block_by_id(conn: Connection, block_id: int) -> Row:
    return conn.execute(sa.select(sb).where(sb.c.id == block_id)).one()


def block_of_serial(conn: Connection, serial: int) -> Row | None:
    """The block (and station name) a serial was issued in, or None."""
    s = db.stations
    return conn.execute(
        sa.select(
            sb.c.id,
            sb.c.product_id,
            sb.c.first_serial,
            sb.c.last_serial,
            sb.c.issued_on,
            s.c.name.label("station"),
            s.c.district,
        )
        .join(s, s.c.id == sb.c.station_id)
        .where(sb.c.first_serial <= serial, sb.c.last_serial >= serial)
        .order_by(sb.c.first_serial.desc())
        .limit(1)
    ).first()


def station_block_of_serial(conn: Connection, station_id: int, serial: int) -> Row | None:
    """The block of this station's that holds `serial` (product_id, key_id), or None."""
    return conn.execute(
        sa.select(sb.c.id, sb.c.product_id, sb.c.key_id)
        .where(
            sb.c.station_id == station_id,
            sb.c.first_serial <= serial,
            sb.c.last_serial >= serial,
        )
        .limit(1)
    ).first()
