"""Soak: every schemathesis phase with many examples against a real `linli serve`.

    python -m bench.soak_schemathesis [--backend postgres|sqlite] [--examples 50]
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from bench.soak import arguments, report, with_server
from harness.scenarios import Figures
from harness.schemathesis import run_schemathesis


def main() -> None:
    args = arguments(__doc__ or "", examples=(int, 50, "examples per operation"))

    def run(served):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            done = run_schemathesis(served, args.examples, Path(folder) / "junit.xml",
                                    phases="examples,coverage,fuzzing,stateful")
        generated = re.search(r"(\d+) generated", done.stdout)
        figures = Figures(seconds=time.monotonic() - started,
                          requests=int(generated.group(1)) if generated else 0)
        if done.returncode != 0:
            figures.problems.append(done.stdout[-4000:])
        return figures

    report("schemathesis", args.backend, with_server(args.backend, run))


if __name__ == "__main__":
    main()
