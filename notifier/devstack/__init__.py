"""The local servers of ``notifier dev`` and of the test suite: PostgreSQL, SeaweedFS."""

from notifier.devstack.servers import LocalPostgres, LocalSeaweedFS, free_port

__all__ = ["LocalPostgres", "LocalSeaweedFS", "free_port"]
