"""The benchmarks' shared command-line arguments: each script adds those it takes, with its
own default."""

from __future__ import annotations

import argparse
from pathlib import Path


def parser_for(description: str | None, *, raw: bool = False) -> argparse.ArgumentParser:
    """A parser whose help starts with `description` (kept as written when `raw`)."""
    if raw:
        return argparse.ArgumentParser(description=description,
                                       formatter_class=argparse.RawDescriptionHelpFormatter)
    return argparse.ArgumentParser(description=description)


def add_backend(parser: argparse.ArgumentParser, default: str, *, both: bool = False) -> None:
    """--backend: postgres or sqlite, or both (each in turn) where the benchmark allows it."""
    choices = ["postgres", "sqlite", "both"] if both else ["postgres", "sqlite"]
    parser.add_argument("--backend", choices=choices, default=default)


def add_members(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--members", type=int, default=default)


def add_commands(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--commands", type=int, default=default)


def add_seconds(parser: argparse.ArgumentParser, default: float,
                help: str | None = None) -> None:
    parser.add_argument("--seconds", type=float, default=default, help=help)


def add_rounds(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--rounds", type=int, default=default)


def add_seed(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--seed", type=int, default=default)


def add_trees(parser: argparse.ArgumentParser, nargs: str) -> None:
    """The trees of the code to compare, each as NAME=PATH."""
    parser.add_argument("trees", nargs=nargs, type=code_tree, metavar="NAME=PATH")


def code_tree(spec: str) -> tuple[str, Path]:
    """A `NAME=PATH` argument naming a tree of the code (a worktree, say), for the benchmarks
    that compare trees."""
    name, _, path = spec.partition("=")
    if not path or not (Path(path) / "ledger").is_dir():
        raise argparse.ArgumentTypeError(f"{spec!r} is not NAME=PATH to a tree of the code")
    return name, Path(path).resolve()
