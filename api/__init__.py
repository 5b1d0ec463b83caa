"""The HTTP API (FastAPI), the command line, and the wiring of both."""
