"""Where the server's time goes, from the py-spy samples `bench.http --by … --profile DIR` took.

Each timed load left `NN-KIND.txt` (py-spy's raw folded stacks: the server's threads apart,
sampled 250 times a second while they held the GIL) and `NN-KIND.json` (the requests it
answered). For each kind of load (by-member-id, by-code, issuing) this prints the GIL time a
request of each thread and of the functions that take most (inclusive: the function and what it
calls), in µs a request; and, by code against by member id, the functions whose time a request
grew most.

    python -m bench.profile DIR [--top 25]
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from bench.args import parser_for

RATE = 250  # samples a second: `bench.consent.sampled`
_LINE = re.compile(r" \(([^:()]+):\d+\)$")


# The frames every sample of a thread passes through: not worth a line.
_OUTER = re.compile(r"\((typer/|uvicorn/main\.py|uvicorn/server\.py|uvicorn/_compat\.py|"
                    r"asyncio/runners\.py|asyncio/base_events\.py|threading\.py|api/cli\.py|"
                    r"linli:|<frozen|ledger/write/writer\.py)")


def _function(frame: str) -> str:
    """A frame without its line number: `name (file)`."""
    return _LINE.sub(r" (\1)", frame)


def per_request(folder: Path) -> dict[str, tuple[Counter[str], Counter[str]]]:
    """For each kind of load: µs of GIL time a request by thread, and by function."""
    samples: dict[str, tuple[Counter[str], Counter[str]]] = defaultdict(
        lambda: (Counter(), Counter()))
    served: Counter[str] = Counter()
    for stacks in sorted(folder.glob("*.txt")):
        if not stacks.with_suffix(".json").exists():
            continue  # a load cut short
        kind = stacks.stem.split("-", 1)[1]
        served[kind] += json.loads(stacks.with_suffix(".json").read_text())["served"]
        threads, functions = samples[kind]
        for line in stacks.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            thread, _, frames = stack.partition(": ")
            names = frames.split(";")
            threads[names[0]] += int(count)
            for function in {_function(frame) for frame in names[1:]
                             if not _OUTER.search(frame)}:
                functions[function] += int(count)
    scale = {kind: 1e6 / RATE / max(1, served[kind]) for kind in samples}
    return {kind: (Counter({k: v * scale[kind] for k, v in threads.items()}),
                   Counter({k: v * scale[kind] for k, v in functions.items()}))
            for kind, (threads, functions) in samples.items()}


def main() -> None:
    parser = parser_for(__doc__, raw=True)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    kinds = per_request(args.folder)
    for kind, (threads, functions) in kinds.items():
        print(f"{kind}: GIL time a request, by thread: "
              + ", ".join(f"{name} {us:.0f} µs" for name, us in threads.most_common()))
        for function, us in functions.most_common(args.top):
            print(f"  {us:8.1f} µs  {function}")
    if "by-code" in kinds and "by-member-id" in kinds:
        code, member = kinds["by-code"][1], kinds["by-member-id"][1]
        grown = Counter({f: code[f] - member.get(f, 0.0) for f in code})
        print("by code against by member id, the functions whose GIL time a request grew most:")
        for function, us in grown.most_common(args.top):
            print(f"  {us:+8.1f} µs  {function} ({member.get(function, 0.0):.1f} → "
                  f"{code[function]:.1f})")


if __name__ == "__main__":
    main()
