"""Web pages (中文 by default, English on request): a volunteer's passbook, the 公益达人榜
screen, the staff console and the merchant till. Server-rendered shells from Jinja2 templates;
plain JavaScript calls the /v1 API with the bearer token the user signed in with."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web.routes import router

STATIC_DIR = Path(__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    """Serve the pages under /web (and send / there)."""
    app.mount("/web/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    app.include_router(router)
