"""Pydantic's validation errors put in words a shopkeeper understands, in either language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ledger import messages
from ledger.messages import Language

_BOUNDS = {"greater_than_equal": ("field-at-least", "ge"),
           "greater_than": ("field-above", "gt"),
           "less_than_equal": ("field-at-most", "le"),
           "less_than": ("field-below", "lt")}
_INTEGER = {"int_type", "int_parsing", "int_from_float", "int_parsing_size"}
_KEYS = {
    "missing": "field-missing",
    "float_type": "field-number", "float_parsing": "field-number",
    "string_type": "field-text",
    "bool_type": "field-bool", "bool_parsing": "field-bool",
    "uuid_type": "field-id", "uuid_parsing": "field-id", "uuid_version": "field-id",
    "datetime_type": "field-instant", "datetime_parsing": "field-instant",
    "datetime_from_date_parsing": "field-instant", "timezone_aware": "field-instant",
    "date_type": "field-date", "date_parsing": "field-date", "date_from_datetime_parsing":
    "field-date", "date_from_datetime_inexact": "field-date",
    "extra_forbidden": "field-unknown",
    "list_type": "field-list",
    "dict_type": "field-object", "model_type": "field-object",
    "model_attributes_type": "field-object",
    "string_pattern_mismatch": "field-pattern",
}


def _label(loc: tuple[Any, ...] | list[Any], lang: Language) -> str:
    names = [str(part) for part in loc if isinstance(part, str)]
    where = names[0] if names else "body"
    name = names[-1] if len(names) > 1 else "body"
    label = messages.field(name, lang)
    if where in ("path", "query", "header") and len(names) > 1:
        return messages.detail(f"where-{where}", {"field": label}, lang)
    return label


def issue_detail(issue: Mapping[str, Any], lang: Language) -> str:
    """One validation error (as pydantic gives it) in words."""
    kind = str(issue.get("type", ""))
    ctx: Mapping[str, Any] = issue.get("ctx") or {}
    loc = issue.get("loc", ())
    names = [part for part in loc if isinstance(part, str)]
    name = names[-1] if len(names) > 1 else "body"
    field = _label(loc, lang)
    low_high = messages.RANGES.get(name)
    if low_high is not None and (kind in _INTEGER or kind in _BOUNDS):
        bound = ctx.get(_BOUNDS[kind][1]) if kind in _BOUNDS else None
        if bound is None or bound in low_high:
            return messages.detail("field-range", {"field": field, "low": low_high[0],
                                                   "high": low_high[1]}, lang)
    if kind in _BOUNDS:
        key, bound_name = _BOUNDS[kind]
        return messages.detail(key, {"field": field, "limit": ctx.get(bound_name)}, lang)
    if kind in _INTEGER:
        return messages.detail("field-integer", {"field": field}, lang)
    if kind in ("string_too_long", "string_too_short", "too_long", "too_short"):
        key = {"string_too_long": "field-too-long", "string_too_short": "field-too-short",
               "too_long": "field-list-too-long", "too_short": "field-list-too-short"}[kind]
        limit = ctx.get("max_length" if "long" in kind else "min_length")
        return messages.detail(key, {"field": field, "limit": limit}, lang)
    if kind in ("enum", "literal_error"):
        choices = re.split(r", | or ", str(ctx.get("expected", "")))
        listed = ("、" if lang == messages.ZH else ", ").join(c.strip("'\"") for c in choices)
        return messages.detail("field-choice", {"field": field, "choices": listed}, lang)
    if kind == "value_error":
        said = str(ctx.get("error", "")).removeprefix("Value error, ")
        key, _, named = said.partition(":")  # "key" or "key:field" (a model's own check)
        if key in messages.DETAILS:
            label = messages.field(named, lang) if named else field
            return messages.detail(key, {"field": label}, lang)
        return messages.detail("field-invalid", {"field": field}, lang)
    return messages.detail(_KEYS.get(kind, "field-invalid"), {"field": field}, lang)
