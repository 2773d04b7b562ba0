"""audit chains without a global lock: one chain per case, user, process or shard, sealed by digests

Existing rows are re-chained into the chain each belongs to (in their old order) and their hashes
recomputed in the new format; a case's head moves onto its application row, other heads into
audit_chain. The downgrade chains every row into the one global chain again, in id order.

The chain assignment and both hash formats are written out here, frozen: this file must keep
producing what version 0004 of the code reads, whatever the code does later.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa

import kitas.models.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
SHARDS = 16
PAGE = 1000

_events = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("seq", sa.BigInteger),
    sa.column("chain", sa.String),
    sa.column("chain_seq", sa.BigInteger),
    sa.column("global_seq", sa.BigInteger),
    sa.column("occurred_at", kitas.models.types.UTCDateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("application_id", sa.Integer),
    sa.column("detail", sa.JSON),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
_READ = ("id", "seq", "occurred_at", "actor_id", "actor", "action", "application_id", "detail")
_applications = sa.table("application", sa.column("id", sa.Integer), sa.column("audit_seq", sa.BigInteger),
                         sa.column("audit_hash", sa.String))
_heads = sa.table("audit_chain", sa.column("chain", sa.String), sa.column("seq", sa.BigInteger),
                  sa.column("last_hash", sa.String))


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha(prev_hash, body):
    return hashlib.sha256((prev_hash + _canonical(body)).encode("utf-8")).hexdigest()


def _chain_of(row):
    if row.application_id is not None:
        return f"case:{row.application_id}"
    if row.action == "definition_deployed" and isinstance(row.detail.get("process_id"), str):
        return f"process:{row.detail['process_id']}"
    if row.actor_id is not None:
        return f"user:{row.actor_id}"
    key = hashlib.sha256((row.actor + "\n" + _canonical(row.detail)).encode("utf-8")).digest()
    return f"actor:{int.from_bytes(key[:4], 'big') % SHARDS}"


def _pages(conn, order):
    """Every audit row in ``order`` (a column that this pass does not change), a page at a time."""
    last = None
    while True:
        query = sa.select(*[_events.c[name] for name in _READ]).order_by(order).limit(PAGE)
        if last is not None:
            query = query.where(order > last)
        rows = conn.execute(query).all()
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], order.name)


def _unique_on(conn, columns, convention_name):
    """The name of the unique constraint on ``columns`` (an unnamed one on SQLite gets ``convention_name``)."""
    for constraint in sa.inspect(conn).get_unique_constraints("audit_event"):
        if constraint["column_names"] == columns:
            return constraint["name"] or convention_name
    raise RuntimeError(f"audit_event has no unique constraint on {columns}")


def upgrade():
    conn = op.get_bind()
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seq', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('audit_hash', sa.String(length=64), server_default=GENESIS, nullable=False))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
    heads = {}
    for rows in _pages(conn, _events.c.seq):
        changes = []
        for row in rows:
            chain = _chain_of(row)
            seq, prev_hash = heads.get(chain, (0, GENESIS))
            seq += 1
            digest = _sha(prev_hash, {
                "chain": chain, "seq": seq, "at": row.occurred_at.isoformat(), "actor_id": row.actor_id,
                "actor": row.actor, "action": row.action, "detail": row.detail,
            })
            heads[chain] = (seq, digest)
            changes.append({"_id": row.id, "_chain": chain, "_seq": seq, "_prev": prev_hash, "_hash": digest})
        conn.execute(
            _events.update().where(_events.c.id == sa.bindparam("_id")).values(
                chain=sa.bindparam("_chain"), chain_seq=sa.bindparam("_seq"), prev_hash=sa.bindparam("_prev"),
                hash=sa.bindparam("_hash")),
            changes,
        )
    old_unique = _unique_on(conn, ["seq"], "uq_audit_event_seq")
    with op.batch_alter_table('audit_event', schema=None,
                              naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}) as batch_op:
        batch_op.drop_constraint(old_unique, type_='unique')
        batch_op.drop_column('seq')
        batch_op.alter_column('chain_seq', new_column_name='seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('chain', existing_type=sa.String(length=160), nullable=False)
    # A batch of its own: in the batch above the new seq column does not exist yet for a constraint.
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_audit_event_chain_seq', ['chain', 'seq'])

    op.create_table('audit_chain',
    sa.Column('chain', sa.String(length=160), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain')
    )
    op.create_table('audit_seal',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('sealed_at', kitas.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heads', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('audit_sealed_head',
    sa.Column('chain', sa.String(length=160), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain')
    )
    cases = [{"_id": int(c[5:]), "_seq": s, "_hash": h} for c, (s, h) in heads.items() if c.startswith("case:")]
    if cases:
        conn.execute(
            _applications.update().where(_applications.c.id == sa.bindparam("_id")).values(
                audit_seq=sa.bindparam("_seq"), audit_hash=sa.bindparam("_hash")),
            cases,
        )
    others = [{"chain": c, "seq": s, "last_hash": h} for c, (s, h) in heads.items() if not c.startswith("case:")]
    if others:
        conn.execute(_heads.insert(), others)
    op.drop_table('audit_head')


def downgrade():
    conn = op.get_bind()
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('global_seq', sa.BigInteger(), nullable=True))
    seq, prev_hash = 0, GENESIS
    for rows in _pages(conn, _events.c.id):
        changes = []
        for row in rows:
            seq += 1
            digest = _sha(prev_hash, {
                "seq": seq, "at": row.occurred_at.isoformat(), "actor": row.actor, "action": row.action,
                "detail": row.detail,
            })
            changes.append({"_id": row.id, "_seq": seq, "_prev": prev_hash, "_hash": digest})
            prev_hash = digest
        conn.execute(
            _events.update().where(_events.c.id == sa.bindparam("_id")).values(
                global_seq=sa.bindparam("_seq"), prev_hash=sa.bindparam("_prev"), hash=sa.bindparam("_hash")),
            changes,
        )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_event_chain_seq', type_='unique')
        batch_op.drop_column('chain')
        batch_op.drop_column('seq')
        batch_op.alter_column('global_seq', new_column_name='seq', existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_unique_constraint('audit_event_seq_key', ['seq'])
    conn.execute(sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("last_hash")).insert(),
                 [{"id": 1, "seq": seq, "last_hash": prev_hash}])
    op.drop_table('audit_sealed_head')
    op.drop_table('audit_seal')
    op.drop_table('audit_chain')
    # A plain DROP COLUMN (SQLite 3.35+): copying the application table would cascade into its children.
    op.drop_column('application', 'audit_hash')
    op.drop_column('application', 'audit_seq')
