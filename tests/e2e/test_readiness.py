"""`/readyz` tells a client that Linli is not ready in a plain sentence; the database's own
text (addresses, users, SQL) goes to the log only."""

from __future__ import annotations

import logging
from typing import Any

import pytest


class TestReadiness:
    def test_ready(self, client):
        assert client.get("/readyz").json()["status"] == "ready"

    def test_a_database_that_does_not_answer_is_not_echoed(self, client, linli, monkeypatch,
                                                          caplog: pytest.LogCaptureFixture):
        def refused(*_: Any, **__: Any) -> Any:
            raise OSError("connection to server at 10.0.0.7, user linli_app: password failed")

        monkeypatch.setattr(linli.app.recorder, "max_notification_id", refused)
        with caplog.at_level(logging.ERROR):
            response = client.get("/readyz")

        assert response.status_code == 503
        body = response.json()
        assert body["type"].endswith("/not-ready")
        assert "10.0.0.7" not in response.text and "linli_app" not in response.text
        assert "数据库" in body["detail"] and body["title"] == "尚未就绪"
        assert "10.0.0.7" in caplog.text
