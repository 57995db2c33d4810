"""File formats AppFlow reads from and writes to S3: CSV (header row), JSON lines, Parquet.

Readers stream records out of one object's bytes. Writers take records one at a time and give
the file's bytes at ``finish()``; ``size`` tells the sink how big the file has grown (to split at
``targetFileSize``). Writers hold the output, not the records: JSON lines are encoded as they
arrive; CSV rows are kept as their cell strings because the header (the union of all fields, in
first-seen order) is only known at the end; Parquet keeps column values.

Output is deterministic: the same records give byte-identical files (no timestamps, no random ids;
Parquet files carry only the writer's version string).
"""
from __future__ import annotations

import csv
import io
import json
import sys
from decimal import Decimal
from typing import Any, Dict, Iterator, List, Optional

from appflow_emu.simulator.plan import Record, RunFailure
from appflow_emu.simulator.values import TEXT_BY_TYPE, json_default, json_line, to_text

PARQUET_MISSING = 'Parquet output needs the optional dependency pyarrow: pip install "appflow_emu[parquet]"'


# -- reading -----------------------------------------------------------------------------------

def _text(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RunFailure(f"The {what} file is not UTF-8 text: {e}") from None


def looks_like_json(body: bytes, file_type: str = "") -> bool:
    """Whether an S3 object is read as JSON lines (else as CSV): its declared
    ``s3InputFileType``, else its first non-blank byte (``{`` or ``[``)."""
    if file_type:
        return file_type.upper() == "JSON"
    return body.lstrip()[:1] in (b"{", b"[")


# Before Python 3.11 the csv module can neither read nor write NUL, which 3.11 and later write as
# any other character (unquoted). There, NUL crosses csv as a stand-in character the text does not
# hold and that csv never quotes, and comes back after: the same bytes on every Python.
_CSV_TAKES_NUL = sys.version_info >= (3, 11)


def _stand_in(text: str) -> str:
    """A private-use character absent from ``text``."""
    for code in range(0xE000, 0xF900):
        if chr(code) not in text:
            return chr(code)
    raise RunFailure("The CSV text uses every private-use character: its NUL characters cannot be handled")


def read_csv(body: bytes) -> Iterator[Record]:
    """Records from CSV with a header row; every value is a string (as AppFlow reads CSV).
    Blank lines are skipped; a short row leaves the missing fields out, extra cells are dropped."""
    text = _text(body, "CSV")
    nul = None
    if not _CSV_TAKES_NUL and "\x00" in text:
        nul = _stand_in(text)
        text = text.replace("\x00", nul)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: Optional[List[str]] = None
    for row in reader:
        if not row:
            continue
        if nul is not None:
            row = [cell.replace(nul, "\x00") for cell in row]
        if header is None:
            header = [h.strip() for h in row]
            continue
        yield {name: value for name, value in zip(header, row)}


def _csv_row(row: List[str], quoting: Any = csv.QUOTE_MINIMAL) -> str:
    """One row of CSV text, ``\n``-terminated (NUL included, on every Python)."""
    out = io.StringIO(newline="")
    nul = None
    if not _CSV_TAKES_NUL and any("\x00" in cell for cell in row):
        nul = _stand_in("".join(row))
        row = [cell.replace("\x00", nul) for cell in row]
    csv.writer(out, lineterminator="\n", quoting=quoting).writerow(row)
    text = out.getvalue()
    return text if nul is None else text.replace(nul, "\x00")


def read_jsonl(body: bytes) -> Iterator[Record]:
    """Records from JSON lines (one object per line). A file holding one JSON array of objects
    is accepted too. A line that is not a JSON object fails the run."""
    text = _text(body, "JSON")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as e:
            raise RunFailure(f"The JSON file is not valid JSON: {e}") from None
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict):
                raise RunFailure(f"The JSON file's item {n} is not a JSON object")
            yield item
        return
    # Only "\n" ends a line: str.splitlines() would also split at U+0085, U+2028... which JSON
    # strings may hold unescaped.
    for n, line in enumerate(text.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise RunFailure(f"The JSON lines file has invalid JSON on line {n}: {e.msg}") from None
        if not isinstance(item, dict):
            raise RunFailure(f"The JSON lines file's line {n} is not a JSON object")
        yield item


# -- writing -------------------------------------------------------------------------------------

class FileWriter:
    """Builds one output file."""

    file_type = ""

    def __init__(self) -> None:
        self.records = 0

    @property
    def size(self) -> int:  # bytes so far (an estimate for CSV and Parquet)
        raise NotImplementedError

    def add(self, record: Record) -> None:
        raise NotImplementedError

    def finish(self) -> bytes:
        raise NotImplementedError


class JsonLinesWriter(FileWriter):
    file_type = "JSON"

    def __init__(self) -> None:
        super().__init__()
        self._buf = io.BytesIO()

    @property
    def size(self) -> int:
        return self._buf.tell()

    def add(self, record: Record) -> None:
        self._buf.write(json_line(record))
        self.records += 1

    def finish(self) -> bytes:
        return self._buf.getvalue()


class CsvWriter(FileWriter):
    """Header row = union of the fields in first-seen order; a missing field or None is empty.

    Rows are encoded as they come and kept as text, grouped by how many columns were known when
    they were written: a field first seen later is a new last column, so earlier rows only need
    trailing empty cells at the end. Memory stays about the size of the file."""

    file_type = "CSV"
    _CHUNK = 512  # lines joined into one string at a time

    def __init__(self) -> None:
        super().__init__()
        self._fields: Dict[str, int] = {}
        self._names: tuple = ()  # the header so far, to spot records in header order
        self._size = 0
        self._segments: List[List[Any]] = []  # [width, [text chunks]]
        self._lines: List[str] = []
        self._width = -1
        self._writer = csv.writer(self, lineterminator="\n")
        # csv quotes only the line terminator's characters: a lone "\r" would go unquoted with
        # "\n" line ends and split the row when read back, so such rows are quoted in full.
        self._quote_all = csv.writer(self, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def write(self, text: str) -> None:  # the csv writers' file
        self._lines.append(text)
        if len(self._lines) >= self._CHUNK:
            self._segments[-1][1].append("".join(self._lines))
            self._lines = []

    @property
    def size(self) -> int:
        return self._size + sum(len(f) + 1 for f in self._fields)

    def add(self, record: Record) -> None:
        text_by_type = TEXT_BY_TYPE
        row: List[str]
        if tuple(record) == self._names:  # the usual case: the same fields in header order
            row = []
            for value in record.values():
                convert = text_by_type.get(type(value))
                text = convert(value) if convert is not None else to_text(value)
                row.append("" if text is None else text)
        else:
            fields = self._fields
            row = [""] * len(fields)
            for name, value in record.items():
                index = fields.get(name)
                if index is None:
                    index = fields[name] = len(fields)
                    row.append("")
                convert = text_by_type.get(type(value))
                text = convert(value) if convert is not None else to_text(value)
                if text is not None:
                    row[index] = text
            self._names = tuple(fields)
        width = len(self._fields)
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        if width != self._width:
            self._close_chunk()
            self._segments.append([width, []])
            self._width = width
        joined = ",".join(row)
        if not _CSV_TAKES_NUL and "\x00" in joined:
            self.write(_csv_row(row, csv.QUOTE_ALL if "\r" in joined else csv.QUOTE_MINIMAL))
        else:
            (self._quote_all if "\r" in joined else self._writer).writerow(row)
        self._size += len(joined) + 1
        self.records += 1

    def _close_chunk(self) -> None:
        if self._lines:
            self._segments[-1][1].append("".join(self._lines))
            self._lines = []

    def finish(self) -> bytes:
        self._close_chunk()
        width = len(self._fields)
        header = list(self._fields)
        quoting = csv.QUOTE_ALL if any("\r" in h for h in header) else csv.QUOTE_MINIMAL
        parts: List[bytes] = [_csv_row(header, quoting).encode("utf-8")]
        for seg_width, chunks in self._segments:
            pad = "," * (width - seg_width)
            for chunk in chunks:
                if pad:
                    chunk = chunk.replace("\n", pad + "\n") if "\r" not in chunk and '"' not in chunk else _pad_rows(chunk, pad)
                parts.append(chunk.encode("utf-8"))
        self._segments = []
        return b"".join(parts)


def _pad_rows(chunk: str, pad: str) -> str:
    """Add empty trailing cells to every row of CSV text whose cells may hold quoted newlines."""
    nul = None
    if not _CSV_TAKES_NUL and "\x00" in chunk:
        nul = _stand_in(chunk)
        chunk = chunk.replace("\x00", nul)
    rows = list(csv.reader(io.StringIO(chunk, newline="")))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    quote_all = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    extra = [""] * len(pad)
    for row in rows:
        (quote_all if any("\r" in c for c in row) else writer).writerow(row + extra)
    text = out.getvalue()
    return text if nul is None else text.replace(nul, "\x00")


def _require_pyarrow() -> Any:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise RunFailure(PARQUET_MISSING) from None
    return pyarrow


def read_parquet(body: bytes) -> List[Record]:
    """Records from a Parquet file (pyarrow, the optional extra)."""
    _require_pyarrow()
    import pyarrow.parquet as pq  # an optional dependency, present: checked just above

    return list(pq.read_table(io.BytesIO(body)).to_pylist())


class ParquetWriter(FileWriter):
    """Columns inferred by pyarrow from the values (``preserve_types``), else every value a string.
    A column whose values pyarrow cannot unify (e.g. ints and strings) is written as strings;
    nested values (dicts, lists) as JSON strings. None is null."""

    file_type = "PARQUET"

    def __init__(self, preserve_types: bool = False) -> None:
        super().__init__()
        self._pa = _require_pyarrow()
        self.preserve_types = preserve_types
        self._columns: Dict[str, List[Any]] = {}
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def add(self, record: Record) -> None:
        n = self.records
        for name, value in record.items():
            column = self._columns.get(name)
            if column is None:
                column = self._columns[name] = [None] * n
            if not self.preserve_types or isinstance(value, (dict, list, tuple, set, bytes, bytearray)):
                value = to_text(value)
            elif isinstance(value, float):
                value = value if value - value == 0.0 else None  # NaN and infinities are null
            elif isinstance(value, Decimal):
                value = json_default(value)
            column.append(value)
            self._size += len(name) + (len(value) if isinstance(value, str) else 8)
        self.records += 1
        for column in self._columns.values():
            if len(column) < self.records:
                column.append(None)

    def _array(self, values: List[Any]) -> Any:
        pa = self._pa
        if not self.preserve_types:
            return pa.array(values, type=pa.string())
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            return pa.array([to_text(v) for v in values], type=pa.string())

    def finish(self) -> bytes:
        pa = self._pa
        import pyarrow.parquet as pq

        arrays = [self._array(values) for values in self._columns.values()]
        names = list(self._columns)
        for i, arr in enumerate(arrays):
            if pa.types.is_null(arr.type):  # a column of only nulls: keep it a string column
                arrays[i] = pa.array(arr.to_pylist(), type=pa.string())
        table = pa.Table.from_arrays(arrays, names=names) if names else pa.table({})
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="snappy")
        self._columns = {}
        return sink.getvalue().to_pybytes()


def writer_for(file_type: Optional[str], preserve_types: bool = False) -> FileWriter:
    """A writer for ``fileType`` (JSON when absent: AppFlow's default for S3 [guess])."""
    kind = (file_type or "JSON").upper()
    if kind == "CSV":
        return CsvWriter()
    if kind == "PARQUET":
        return ParquetWriter(preserve_types)
    return JsonLinesWriter()


def write_csv(records: List[Record]) -> bytes:
    w = CsvWriter()
    for r in records:
        w.add(r)
    return w.finish()


def write_jsonl(records: List[Record]) -> bytes:
    w = JsonLinesWriter()
    for r in records:
        w.add(r)
    return w.finish()


def write_parquet(records: List[Record], preserve_types: bool = False) -> bytes:
    w = ParquetWriter(preserve_types)
    for r in records:
        w.add(r)
    return w.finish()
