"""A projection worker alone in its process (so a test can kill -9 it): catches up and exits.

Run as `python -c "from harness.worker import main; main()"` with LINLI_* set;
`LINLI_PROJECTION_BATCH_EVENTS` small makes many batches (many moments to be killed in).
"""

from __future__ import annotations

from ledger.application import open_ledger
from ledger.settings import Settings
from projections.database import create_read_engine
from projections.runner import ProjectionRunner


def main() -> None:
    settings = Settings()
    app = open_ledger(settings)
    engine = create_read_engine(settings)
    try:
        runner = ProjectionRunner(app, engine, batch_events=settings.projection_batch_events)
        runner.catch_up()
    finally:
        engine.dispose()
        app.close()
