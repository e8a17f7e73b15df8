"""hall display media and playlists (issue 23)

- ``media_items``: images and MP4 videos uploaded for the hall displays (the file is in the
  data directory, named by the SHA-256 of its content);
- ``playlist_items``: each zone's playlist ("" = the whole hall): a medium or the "QR cards"
  item, its position, seconds and dates.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import onestop.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'media_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('mime', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('file_name', sa.String(length=80), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('created_at', onestop.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('image', 'video')", name=op.f('ck_media_items_kind')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_media_items_created_by_id_users')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_media_items_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_items')),
    )
    op.create_index(op.f('ix_media_items_unit_id'), 'media_items', ['unit_id'], unique=False)
    op.create_index(op.f('ix_media_items_file_name'), 'media_items', ['file_name'], unique=False)
    op.create_table(
        'playlist_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('zone', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('media_id', sa.Integer(), nullable=True),
        sa.Column('seconds', sa.Integer(), nullable=True),
        sa.Column('starts_on', sa.Date(), nullable=True),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('media', 'qr_cards')", name=op.f('ck_playlist_items_kind')),
        sa.CheckConstraint("(kind = 'media') = (media_id IS NOT NULL)", name=op.f('ck_playlist_items_media')),
        sa.ForeignKeyConstraint(['media_id'], ['media_items.id'], name=op.f('fk_playlist_items_media_id_media_items')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_playlist_items_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_playlist_items')),
    )
    op.create_index('ix_playlist_items_zone', 'playlist_items', ['unit_id', 'zone', 'position'], unique=False)
    op.create_index(op.f('ix_playlist_items_media_id'), 'playlist_items', ['media_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_playlist_items_media_id'), table_name='playlist_items')
    op.drop_index('ix_playlist_items_zone', table_name='playlist_items')
    op.drop_table('playlist_items')
    op.drop_index(op.f('ix_media_items_file_name'), table_name='media_items')
    op.drop_index(op.f('ix_media_items_unit_id'), table_name='media_items')
    op.drop_table('media_items')
