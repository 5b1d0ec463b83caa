"""Alembic environment: the URL comes from the configuration `linli migrate` builds,
or from LINLI_DATABASE_URL when the `alembic` command is run by hand."""

from alembic import context
from sqlalchemy import create_engine, pool

from ledger.settings import Settings
from projections.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings().sqlalchemy_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
