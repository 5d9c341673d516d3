"""Statements of the hot paths, compiled once and run on the driver's own cursor (SQLite).

Through SQLAlchemy a small statement costs 100 to 150 µs of Python on this project's 2-core
reference machine (building it, its cache key, the execution context, the result object);
the same statement on the sqlite3 cursor costs 14 µs. A `Query` is written as an ordinary
Core statement with named `bindparam`s, so it stays one statement for both engines: on
SQLite it is compiled once (once per list length for `expanding` parameters) and run raw;
on PostgreSQL the Core statement itself is executed.

Rows come back as tuples of the driver's values: select plain columns (integers, text,
blobs; booleans arrive as 0/1), not JSON ones, whose decoding only SQLAlchemy knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.base import Executable

__all__ = ["Query"]

_SQLITE = sqlite.dialect()
# Where a positional value comes from: (parameter, index in its list, or one of these, and
# the value itself for a constant).
_PLAIN, _CONSTANT = -1, -2
_Source = tuple[str, int, Any]


class Query:
    __slots__ = ("_compiled", "_expanding", "statement")

    def __init__(self, statement: Executable, *, expanding: tuple[str, ...] = ()) -> None:
        self.statement = statement
        # Parameters that take a list, written bindparam(name, expanding=True).
        self._expanding = expanding
        # (length of each expanding list) -> (SQL, how to find each positional value)
        self._compiled: dict[tuple[int, ...], tuple[str, list[_Source]]] = {}

    def for_sqlite(self, params: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """The SQL text and its positional values."""
        lengths = tuple(len(params[name]) for name in self._expanding)
        found = self._compiled.get(lengths)
        if found is None:
            found = self._compiled[lengths] = self._compile(lengths)
        sql, order = found
        return sql, tuple(params[name] if index == _PLAIN else
                          constant if index == _CONSTANT else params[name][index]
                          for name, index, constant in order)

    def _compile(self, lengths: tuple[int, ...]) -> tuple[str, list[_Source]]:
        if any(n == 0 for n in lengths):
            raise ValueError("an expanding parameter needs at least one value")
        statement: Any = self.statement
        if self._expanding:
            statement = statement.params({name: [None] * n for name, n in
                                          zip(self._expanding, lengths, strict=True)})
        compiled = statement.compile(dialect=_SQLITE,
                                     compile_kwargs={"render_postcompile": True})
        order: list[_Source] = []
        for name in compiled.positiontup or ():
            base, _, number = name.rpartition("_")
            bind = compiled.binds.get(name)
            if base in self._expanding and number.isdigit():
                order.append((base, int(number) - 1, None))
            elif bind is not None and not bind.required:  # a value written in the statement
                order.append((name, _CONSTANT, bind.effective_value))
            else:
                order.append((name, _PLAIN, None))
        return str(compiled), order
