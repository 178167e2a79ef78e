"""Wiring for entry points: settings, logging, the pool and the S3 client, made once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from flask import Flask
from psycopg_pool import ConnectionPool

from notifier.config import Settings
from notifier.db import create_pool
from notifier.logs import configure_logging
from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client
from notifier.web import create_app


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    pool: ConnectionPool

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        configure_logging(settings.log_level, settings.log_format)
        return cls(
            settings=settings, pool=create_pool(settings.database_url, settings.db_pool_size)
        )

    @cached_property
    def store(self) -> ObjectStore:
        return ObjectStore(make_client(self.settings.s3))

    def processor(self) -> Processor:
        return Processor(self.settings, self.pool, self.store)

    def receiver(self) -> Flask:
        probe = ObjectStore(make_client(self.settings.s3, probe=True))
        return create_app(self.settings, self.pool, store_probe=probe)

    def close(self) -> None:
        self.pool.close()


def build_receiver() -> Flask:
    """The receiver app for a WSGI server, configured from the environment."""
    return Runtime.from_settings(Settings.from_env()).receiver()
