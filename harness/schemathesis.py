"""Schemathesis against our own OpenAPI on a served `linli serve`, every check but one:
`positive_data_acceptance` (our rules go beyond what a JSON Schema can say)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.served import ADMIN_TOKEN, Served

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")


def run_schemathesis(served: Served, examples: int, report: Path, phases: str,
                     timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCHEMATHESIS, "run", f"{served.url}/openapi.json",
         "--header", f"Authorization: Bearer {ADMIN_TOKEN}",
         "--checks", "all", "--exclude-checks", "positive_data_acceptance",
         "--phases", phases,
         "--max-examples", str(examples), "--generation-deterministic", "--workers", "1",
         "--no-color", "--report", "junit", "--report-junit-path", str(report)],
        capture_output=True, text=True, timeout=timeout, check=False,
        cwd=report.parent,  # schemathesis keeps a cache in its working directory
    )
