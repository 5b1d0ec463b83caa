"""The message catalogue: every problem the code can raise has its words in both languages."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import api
import ledger
import projections
import web
from ledger import messages
from ledger.domain.accounts import _SHORT
from ledger.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
KEYED_CALLS = {"ApiProblem": (1, 2), "BodyRefused": (0, 1), "unauthorized": (None, 0)}


def _all_error_classes() -> set[type[DomainError]]:
    for package in (ledger, api, projections, web):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.startswith(("api.cli", "projections.worker")):
                importlib.import_module(info.name)
    found: set[type[DomainError]] = set()
    stack = [DomainError]
    while stack:
        cls = stack.pop()
        found.add(cls)
        stack.extend(cls.__subclasses__())
    return found


def _calls() -> list[tuple[str, ast.Call]]:
    sources = [path for folder in ("ledger", "api", "projections", "web")
               for path in (ROOT / folder).rglob("*.py")]
    return [(f"{path.relative_to(ROOT)}:{node.lineno}", node)
            for path in sources for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else "")


def _literal(node: ast.expr) -> str | None:
    """A string constant, or the leading text of an f-string (a key with `:field`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def test_every_entry_has_both_languages_with_the_same_parameters() -> None:
    for table in (messages.TITLES, messages.DETAILS, messages.FIELDS, messages.THINGS):
        for key, (zh, en) in table.items():
            assert zh and en, key
            assert table is messages.FIELDS or CHINESE.search(zh), key
            assert not CHINESE.search(en), key
    for key, (zh, en) in messages.DETAILS.items():
        assert messages.parameters(zh) == messages.parameters(en), key


def test_every_slug_raised_anywhere_has_a_title() -> None:
    classes = _all_error_classes()
    assert len(classes) > 40
    for cls in classes:
        assert cls.slug in messages.TITLES, cls.__name__
    for where, call in _calls():
        if _name(call) in KEYED_CALLS and KEYED_CALLS[_name(call)][0] is not None:
            slug = _literal(call.args[KEYED_CALLS[_name(call)][0]])
            assert slug in messages.TITLES, where


def test_every_key_raised_anywhere_is_in_the_catalogue() -> None:
    error_names = {cls.__name__ for cls in _all_error_classes()}
    checked = 0
    for where, call in _calls():
        name = _name(call)
        if name in error_names:
            position: int | None = 0
        elif name in KEYED_CALLS:
            position = KEYED_CALLS[name][1]
        elif name == "ValueError" and where.startswith(("api/schemas", "api/instants")):
            position = 0
        else:
            continue
        assert call.args, f"{where}: {name} raised without a message key"
        key = _literal(call.args[position]) if position is not None else None
        if key is None:  # a key chosen at run time: a variable or a call
            continue
        assert key.split(":")[0] in messages.DETAILS, f"{where}: {key!r}"
        given = {k.arg for k in call.keywords}
        if None not in given and name != "ValueError":  # no **params: every one is named
            needed = messages.parameters(messages.DETAILS[key][0]) - {"field"}
            assert needed <= given, f"{where}: {key!r} needs {needed - given}"
        checked += 1
    assert checked > 150
    assert set(_SHORT.values()) <= messages.DETAILS.keys()


def test_language_follows_accept_language() -> None:
    assert messages.language(None) == "zh"
    for zh in ("zh-CN", "zh", "zh-Hans", "fr", "zh-CN,en;q=0.5", "*"):
        assert messages.language(zh) == "zh", zh
    for en in ("en", "en-US", "en-GB,en;q=0.9", "fr, en;q=0.5", "zh;q=0.1, en"):
        assert messages.language(en) == "en", en


def test_a_domain_error_in_both_languages() -> None:
    from ledger.errors import InsufficientBalance
    error = InsufficientBalance("merchant-unsettled-short", available=0, asked=2)
    assert error.detail_in("zh") == "商户未结算的积分只有0分，不够退还2分（已结算的积分不能再退）"
    assert error.title_in("en") == "Not enough available balance"
    assert "unsettled" in error.detail_in("en")
