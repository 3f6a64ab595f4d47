"""Does each value fit its Parquet column? (pure; the exporter repairs or drops what does not).

A value that does not fit its column's Arrow type fails the conversion of the whole buffered row group, and
with it the run's commit — one odd JSON value (a Hacker News title sent as a number, a user name as a list)
must never cost every other row. Two ways a value can misfit:

- ``out_of_range``: an integer the column cannot hold (``X-WP-Total: 10**12`` in an int32 count);
- ``wrong_type``: a value of another Python type than the column stores. A number (not a bool) in a string
  column is written as its decimal text (lossless); anything else becomes null.

Each misfit is returned as ``(column, nullable, reason, replacement)``; the exporter writes the replacement
when the column is nullable (counted as a repair) and drops the row when it is required (counted as a drop).
"""
from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from .schema import TABLES

_INT_BITS = {pa.int8(): 7, pa.int16(): 15, pa.int32(): 31, pa.int64(): 63}


def _kind(t: pa.DataType) -> str:
    if t in _INT_BITS:
        return "int"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_list(t) and pa.types.is_string(t.value_type):
        return "str_list"
    return "other"  # not checked here


# per table: (column, kind, bits, nullable), computed once
_PLAN = {table: [(c.name, _kind(c.type), _INT_BITS.get(c.type), c.nullable) for c in cols]
         for table, cols in TABLES.items()}
_FITS_AS_IS = {"str": str, "bool": bool, "float": float, "timestamp": datetime}  # exact types that always fit
# per table, the hot path's tuple: (column, type that fits as it is or None, kind, bits, nullable, integer
# bounds), columns of kinds not checked here left out
_CHECKS = {table: tuple((name, _FITS_AS_IS.get(kind), kind, bits, nullable,
                         (-(2 ** bits), 2 ** bits) if bits is not None else None)
                        for name, kind, bits, nullable in plan if kind != "other")
           for table, plan in _PLAN.items()}


def _is_int(v) -> bool:
    return type(v) is int  # bool is an int subclass: not a count


def _misfit(kind: str, bits: int | None, v) -> tuple[str, object] | None:
    """(reason, replacement) when ``v`` does not fit a column of ``kind``; None when it fits."""
    if kind == "str":
        if type(v) is str:
            return None
        if _is_int(v) or type(v) is float:
            return "wrong_type", str(v)
        return "wrong_type", None
    if kind == "int":
        if not _is_int(v):
            return "wrong_type", None
        if not -(2 ** bits) <= v < 2 ** bits:
            return "out_of_range", None
        return None
    if kind == "bool":
        return None if type(v) is bool else ("wrong_type", None)
    if kind == "float":
        return None if type(v) is float or _is_int(v) else ("wrong_type", None)
    if kind == "timestamp":
        return None if isinstance(v, datetime) else ("wrong_type", None)
    if kind == "str_list":
        if isinstance(v, (list, tuple)):
            if all(type(x) is str for x in v):
                return None
            return "wrong_type", [x for x in v if type(x) is str]  # the items that are text are kept
        return "wrong_type", None
    return None


def misfits(table: str, row: dict) -> list[tuple[str, bool, str, object]]:
    """(column, nullable, reason, replacement) for every non-null value of ``row`` that its column of
    ``table`` cannot store as it is."""
    out = []
    for name, fits, kind, bits, nullable, bounds in _CHECKS[table]:
        v = row.get(name)
        if v is None or type(v) is fits:
            continue
        if bounds is not None and type(v) is int and bounds[0] <= v < bounds[1]:
            continue
        found = _misfit(kind, bits, v)
        if found is not None:
            out.append((name, nullable, found[0], found[1]))
    return out


def fit_row(table: str, row: dict) -> tuple[list[tuple[str, str]], str | None]:
    """Repair ``row`` in place so every value fits its column: ([(reason, column) repaired], None), or
    (repairs so far, "<reason>_<column>") when a required column's value cannot be repaired (drop the row)."""
    repaired = []
    for name, nullable, reason, replacement in misfits(table, row):
        if not nullable and replacement is None:
            return repaired, f"{reason}_{name}"
        row[name] = replacement
        repaired.append((reason, name))
    return repaired, None
