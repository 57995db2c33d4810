"""File formats AppFlow reads from and writes to S3: CSV (header row), JSON lines, Parquet.

Readers stream records out of one object's bytes, decoding a few kilobytes at a time (no copy of
the whole text). Writers take records one at a time and give the file's bytes at ``finish()``;
``size`` tells the sink how big the file has grown (to split at ``targetFileSize``). Writers hold
the output, not the records: JSON lines and CSV rows are encoded as they arrive into one growing
buffer whose bytes ``finish()`` hands over without a copy (CSV: the header goes first, with the
fields known when the first row came; see :class:`CsvWriter` for fields first seen later);
Parquet keeps column values.

Output is deterministic: the same records give byte-identical files (no timestamps, no random ids;
Parquet files carry only the writer's version string).
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
import threading
from decimal import Decimal
from typing import Any, Dict, Iterable, Iterator, List, Optional

from appflow_emu.simulator.plan import Record, RunFailure
from appflow_emu.simulator.values import TEXT_BY_TYPE, json_default, json_line, to_text

PARQUET_MISSING = 'Parquet output needs the optional dependency pyarrow: pip install "appflow_emu[parquet]"'


# -- reading -----------------------------------------------------------------------------------

_BLOCK = 1 << 16  # bytes decoded at a time when checking that a file is UTF-8
_NOT_BYTES_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # the first byte bytes.lstrip() keeps
_NOT_TEXT_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c\x1c-\x1f]")  # str.lstrip() also drops \x1c-\x1f (and non-ASCII blanks)


def _text(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RunFailure(f"The {what} file is not UTF-8 text: {e}") from None


def _check_text(body: bytes, what: str) -> None:
    """Fail as :func:`_text` would, without holding the whole text: ASCII needs no decoding, other
    bytes are decoded a block at a time (and once more, whole, only to word a failure)."""
    if body.isascii():
        return
    decode = codecs.getincrementaldecoder("utf-8")().decode
    view = memoryview(body)
    try:
        for start in range(0, len(view), _BLOCK):
            decode(view[start:start + _BLOCK])
        decode(b"", True)
    except UnicodeDecodeError:
        _text(body, what)  # raises, worded for the whole file


def _lines(body: bytes, newline: str) -> io.TextIOWrapper:
    """The text of UTF-8 ``body`` (a BOM dropped), decoded as it is read: iterating gives lines
    (``newline`` as for ``open``). The BytesIO shares ``body``'s bytes, it does not copy them."""
    return io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", newline=newline)


def _first_byte(body: bytes, pattern: Any = _NOT_BYTES_BLANK, start: int = 0) -> bytes:
    """The first byte of ``body`` from ``start`` that ``pattern`` takes (``b""`` if none), without
    copying the bytes as ``body.lstrip()`` would."""
    match = pattern.search(body, start)
    return match.group() if match is not None else b""


def looks_like_json(body: bytes, file_type: str = "") -> bool:
    """Whether an S3 object is read as JSON lines (else as CSV): its declared
    ``s3InputFileType``, else its first non-blank byte (``{`` or ``[``)."""
    if file_type:
        return file_type.upper() == "JSON"
    return _first_byte(body) in (b"{", b"[")


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
    nul = None
    lines: Iterable[str]
    if not _CSV_TAKES_NUL and b"\x00" in body:
        text = _text(body, "CSV")
        nul = _stand_in(text)
        lines = io.StringIO(text.replace("\x00", nul), newline="")
        del text
    else:
        _check_text(body, "CSV")
        lines = _lines(body, "")
    reader = csv.reader(lines)
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
    """One row of CSV text, ``\\n``-terminated (NUL included, on every Python)."""
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
    first = _first_byte(body, _NOT_TEXT_BLANK, 3 if body.startswith(codecs.BOM_UTF8) else 0)
    if first == b"[" or first >= b"\x80":  # an array, or text that may start with non-ASCII blanks
        text = _text(body, "JSON")
        if text.lstrip().startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as e:
                raise RunFailure(f"The JSON file is not valid JSON: {e}") from None
            del text
            for n, item in enumerate(items, 1):
                if not isinstance(item, dict):
                    raise RunFailure(f"The JSON file's item {n} is not a JSON object")
                yield item
            return
        del text
    _check_text(body, "JSON")
    # Only "\n" ends a line: str.splitlines() would also split at U+0085, U+2028... which JSON
    # strings may hold unescaped.
    for n, line in enumerate(_lines(body, "\n"), 1):
        if line.endswith("\n"):
            line = line[:-1]
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
    """Each record encoded as it comes into one growing buffer; ``finish()`` hands over its bytes
    without copying them."""

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
        # BytesIO.getvalue() gives its own buffer, cut to size, when nothing else shares it.
        body = self._buf.getvalue()
        self._buf = io.BytesIO()
        return body


class _Appender:
    """A file for csv writers whose ``write`` is a list's ``append`` (no Python call per row)."""

    __slots__ = ("write",)

    def __init__(self, lines: List[str]) -> None:
        self.write = lines.append


class _RowWriters(threading.local):
    """The csv writers for rows that need quoting, one pair per thread: a csv writer keeps a
    buffer of 128 KB once used, too much to hold per open file."""

    def __init__(self) -> None:
        self.lines: List[str] = []
        out = _Appender(self.lines)
        self.minimal = csv.writer(out, lineterminator="\n")
        # csv quotes only the line terminator's characters: a lone "\r" would go unquoted with
        # "\n" line ends and split the row when read back, so such rows are quoted in full.
        self.quote_all = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)


_ROW_WRITERS = _RowWriters()


def _quoted_row(row: List[str], quote_all: bool) -> str:
    """One row of CSV text as csv writes it, ``\\n``-terminated (not NUL before Python 3.11)."""
    writers = _ROW_WRITERS
    (writers.quote_all if quote_all else writers.minimal).writerow(row)
    return writers.lines.pop()


class _Segment:
    """CSV rows written while the header had ``width`` fields, encoded into ``buf`` from ``start``
    (the first segment begins with the header); ``ends``: row boundaries every few hundred rows,
    so that the rows can be padded a batch at a time."""

    __slots__ = ("width", "buf", "start", "ends")

    def __init__(self, width: int, head: bytes) -> None:
        self.width = width
        self.buf = io.BytesIO()
        self.buf.write(head)
        self.start = len(head)
        self.ends: List[int] = []

    def close(self) -> None:
        """Mark the end of the rows written so far as a boundary."""
        end = self.buf.tell()
        if end > (self.ends[-1] if self.ends else self.start):
            self.ends.append(end)


def _pad(from_width: int, to_width: int) -> str:
    """What ends each row of ``from_width`` cells to make it ``to_width`` cells: a comma per missing
    trailing cell. A row of no cells is an empty line: ``to_width`` empty cells are one comma fewer
    (one empty cell alone is written ``""``, as csv writes it, so that it is not a blank line)."""
    if from_width == 0 and to_width > 0:
        return '""' if to_width == 1 else "," * (to_width - 1)
    return "," * (to_width - from_width)


def _copy_rows(out: io.BytesIO, segment: _Segment, pad: str, ends: Optional[List[int]] = None) -> None:
    """Append ``segment``'s rows to ``out``, each with ``pad`` (a comma per missing trailing
    cell) added; ``ends`` gets the boundaries in ``out``."""
    segment.close()
    data = segment.buf.getvalue()  # the segment's own buffer, not a copy
    if not pad:
        with memoryview(data) as view:
            out.write(view[segment.start:])
        if ends is not None:
            shift = out.tell() - len(data)
            ends.extend(end + shift for end in segment.ends)
        return
    pad_bytes = pad.encode("ascii") + b"\n"
    begin = segment.start
    for end in segment.ends:
        batch = data[begin:end]
        if b"\r" not in batch and b'"' not in batch:  # no quoted cells: every "\n" ends a row
            batch = batch.replace(b"\n", pad_bytes)
        else:
            batch = _pad_rows(batch.decode("utf-8"), pad).encode("utf-8")
        out.write(batch)
        if ends is not None:
            ends.append(out.tell())
        begin = end


class CsvWriter(FileWriter):
    """Header row = union of the fields in first-seen order; a missing field or None is empty.

    Each row is encoded as it comes into one growing buffer that starts with the header as known
    at the first row. In the usual case (every field appears in the first record) that buffer is
    the file, and ``finish()`` hands its bytes over without a copy. A field first seen later is a
    new last column, so earlier rows only need trailing empty cells: while the file is small
    (``_MERGE_LIMIT``) it is rewritten at once behind the new header; past that, rows go on in a
    new segment of the new width, and ``finish()`` joins the segments behind the final header,
    padding the earlier ones (each segment is freed once copied: the peak is the file plus one
    segment)."""

    file_type = "CSV"
    _BATCH = 512  # rows between two boundaries kept for padding
    _MERGE_LIMIT = 1 << 16  # bytes: up to this size a new field rewrites the file at once

    def __init__(self) -> None:
        super().__init__()
        self._fields: Dict[str, int] = {}
        self._names: tuple = ()  # the header so far, to spot records in header order
        self._size = 0  # characters of the rows (an estimate of their bytes: see size)
        self._header_size = 0
        self._segments: List[_Segment] = []
        self._width = -1

    @property
    def size(self) -> int:
        return self._size + self._header_size

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
                    self._header_size += len(name) + 1
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
            self._widen(width)
        joined = ",".join(row)
        if not _CSV_TAKES_NUL and "\x00" in joined:
            line = _csv_row(row, csv.QUOTE_ALL if "\r" in joined else csv.QUOTE_MINIMAL)
        elif ('"' in joined or "\n" in joined or "\r" in joined or not joined
              or joined.count(",") != len(row) - 1):
            # quotes, line breaks, commas in a cell, a lone empty cell: as csv writes them
            line = _quoted_row(row, "\r" in joined)
        else:  # nothing to quote: the row is its cells and commas
            line = joined + "\n"
        segment = self._segments[-1]
        segment.buf.write(line.encode("utf-8"))
        self._size += len(joined) + 1
        self.records += 1
        if not self.records % self._BATCH:
            segment.ends.append(segment.buf.tell())

    def _header(self) -> bytes:
        header = list(self._fields)
        quoting = csv.QUOTE_ALL if any("\r" in h for h in header) else csv.QUOTE_MINIMAL
        return _csv_row(header, quoting).encode("utf-8")

    def _widen(self, width: int) -> None:
        """Rows of ``width`` cells come next: rewrite the small file so far behind the new
        header, or start a segment."""
        segments = self._segments
        if len(segments) > 1 or (segments and segments[0].buf.tell() > self._MERGE_LIMIT):
            segments[-1].close()
            segments.append(_Segment(width, b""))
        else:
            merged = _Segment(width, self._header())
            for segment in segments:
                _copy_rows(merged.buf, segment, _pad(segment.width, width), merged.ends)
            self._segments = [merged]
        self._width = width

    def finish(self) -> bytes:
        segments, self._segments = self._segments, []
        self._width = -1
        if not segments:
            return self._header()
        if len(segments) == 1:  # the header at its start is the final one
            return segments[0].buf.getvalue()
        out = io.BytesIO()
        out.write(self._header())
        width = len(self._fields)
        segments.reverse()
        while segments:  # each segment is freed once copied
            segment = segments.pop()
            _copy_rows(out, segment, _pad(segment.width, width))
            del segment
        return out.getvalue()


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


# [guess] Hive (Glue) column types of Arrow types; anything else is a string
_HIVE_TYPES = {"int8": "tinyint", "int16": "smallint", "int32": "int", "int64": "bigint", "uint8": "smallint",
               "uint16": "int", "uint32": "bigint", "uint64": "bigint", "float": "float", "double": "double",
               "bool": "boolean", "string": "string", "large_string": "string", "date32[day]": "date",
               "binary": "binary"}


def parquet_column_types(body: bytes) -> Dict[str, str]:
    """A Parquet file's columns and their Hive types (pyarrow, the optional extra), in file order."""
    _require_pyarrow()
    import pyarrow.parquet as pq  # an optional dependency, present: checked just above

    schema = pq.read_schema(io.BytesIO(body))
    out: Dict[str, str] = {}
    for field in schema:
        arrow = str(field.type)
        out[field.name] = "timestamp" if arrow.startswith("timestamp") else _HIVE_TYPES.get(arrow, "string")
    return out


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
