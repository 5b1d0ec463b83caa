"""Bringing a database's schema to the latest migration (`linli migrate`, and `linli serve`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ledger.settings import Settings

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    return config


def migrate(settings: Settings) -> None:
    command.upgrade(alembic_config(settings), "head")
