"""The demo centre on PostgreSQL, for direct engine calls: the queueing tests' ``pg_centre``."""

from tests.queueing.conftest import pg_centre  # noqa: F401 - a fixture, shared
