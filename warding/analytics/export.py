"""Write a measure's flat rows as CSV or Parquet (``pyarrow``), streaming-friendly: rows
are written as they come, Parquet in record batches of ``PARQUET_BATCH`` rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

PARQUET_BATCH = 10_000


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """CSV with a header from the first row's keys; returns the number of rows."""
    writer: csv.DictWriter[str] | None = None
    n = 0
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in row.items()})
        n += 1
    return n


def csv_text(rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    write_csv(rows, buf)
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value)
    return value


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append({k: _cell(v) for k, v in row.items()})
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_parquet(rows: Iterable[dict[str, Any]], path: Path) -> int:
    """A Parquet file (schema from the first batch); returns the number of rows. An
    empty measure writes a file with no columns and no rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 0
    writer: Any = None
    try:
        for batch in _batches(rows, PARQUET_BATCH):
            table = pa.Table.from_pylist(batch)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            else:
                table = table.cast(writer.schema)
            writer.write_table(table)
            n += len(batch)
        if writer is None:
            pq.write_table(pa.table({}), str(path))
    finally:
        if writer is not None:
            writer.close()
    return n
