"""Rewriting the repositories' SQL (SQLite's dialect, kept portable) for PostgreSQL.

The repositories write one SQL for both backends. What differs is small and mechanical:
parameters (``?`` and ``:name`` become psycopg's ``%s`` and ``%(name)s``, and every other
``%`` doubles), ``INSERT OR IGNORE`` (``ON CONFLICT DO NOTHING``), and two JSON functions:
one migration 0001 of this backend provides under Herald's own name, one spelled out.
"""

from __future__ import annotations

import functools
import re

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_FUNCTIONS = {
    re.compile(r"\bjson_each\s*\(", re.IGNORECASE): "herald_json_ids(",
    # SQLite writes its JSON arrays without spaces; json_agg would put one after each comma.
    re.compile(r"\bjson_group_array\s*\(\s*([\w.]+)\s*\)", re.IGNORECASE): (
        r"('[' || string_agg(to_json(\1)::text, ',') || ']')"
    ),
}


class DialectError(ValueError):
    """SQL that only SQLite understands and that has no rewrite here."""


def _outside_literals(sql: str) -> list[tuple[bool, str]]:
    """Split into (is_code, text) runs; quoted strings and identifiers are not code."""
    parts: list[tuple[bool, str]] = []
    start = index = 0
    while index < len(sql):
        char = sql[index]
        if char in "'\"":
            if index > start:
                parts.append((True, sql[start:index]))
            end = index + 1
            while end < len(sql):
                if sql[end] == char:
                    if end + 1 < len(sql) and sql[end + 1] == char:  # a doubled quote
                        end += 2
                        continue
                    break
                end += 1
            parts.append((False, sql[index : end + 1]))
            start = index = end + 1
            continue
        index += 1
    if start < len(sql):
        parts.append((True, sql[start:]))
    return parts


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """The PostgreSQL form of one statement; raises DialectError for SQLite-only syntax."""
    if re.search(r"\b(UPDATE|INSERT)\s+OR\s+(REPLACE|ABORT|FAIL|ROLLBACK)\b", sql, re.I) or (
        re.search(r"\bUPDATE\s+OR\s+IGNORE\b", sql, re.IGNORECASE)
    ):
        raise DialectError(f"no PostgreSQL form for: {sql.strip()[:80]}")
    ignore = bool(_OR_IGNORE.search(sql))
    pieces = []
    for is_code, text in _outside_literals(sql):
        # psycopg reads % as a placeholder wherever it stands, in quotes too.
        text = text.replace("%", "%%")
        if is_code:
            text = text.replace("?", "%s")
            text = _NAMED.sub(r"%(\1)s", text)
            text = _OR_IGNORE.sub("INSERT INTO", text)
            for pattern, replacement in _FUNCTIONS.items():
                text = pattern.sub(replacement, text)
        pieces.append(text)
    translated = "".join(pieces).strip().rstrip(";")
    if ignore:
        returning = _RETURNING.search(translated)
        if returning is None:
            translated += " ON CONFLICT DO NOTHING"
        else:
            at = returning.start()
            translated = f"{translated[:at]}ON CONFLICT DO NOTHING {translated[at:]}"
    return translated
