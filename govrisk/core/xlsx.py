"""Fast XLSX for imports and large exports.

Reading (`iter_values`): the first worksheet's values, as openpyxl's read-only mode gives them.

openpyxl (read_only=True, data_only=True) spends most of an import's reading time in per-cell objects (an inline
string becomes a rich-text object), and it parses a sheet without a <dimension> element twice. This reader walks
the same XML once with lxml (or the standard library's parser) and returns, row by row, the same values openpyxl's
`worksheet.iter_rows(values_only=True)` returns: the same worksheet (the first one), shared strings (without the
"x005F_" escapes, as openpyxl), inline strings, numbers as int or float, dates for date-formatted cells
(1900 and 1904 calendars), booleans, error codes, empty rows for rows the file skips, and the same handling of
the sheet's <dimension>. openpyxl's own helpers decide what is a date format and convert serial numbers.

Writing (`save_streamed`): openpyxl's write-only workbook for everything but the bulk of the rows, which are
written as XML text — the same cells, without an openpyxl cell object per value.
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601
from openpyxl.xml.constants import (
    ARC_CONTENT_TYPES,
    ARC_STYLE,
    ARC_WORKBOOK,
    CONTYPES_NS,
    PKG_REL_NS,
    REL_NS,
    SHARED_STRINGS,
    SHEET_MAIN_NS,
    XLSM,
    XLSX,
    XLTM,
    XLTX,
)

try:
    from lxml import etree

    def _iterparse(source, tags):
        """End events of the elements named `tags` (lxml filters the others out in C)."""
        # no DTD, no entities, no network: an upload is untrusted
        return etree.iterparse(source, events=("end",), tag=tags, resolve_entities=False, load_dtd=False,
                               no_network=True)

    def _fromstring(data: bytes):
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True))

    def _drop_done(element) -> None:
        """Free an element and its finished earlier siblings (lxml keeps them attached to the tree)."""
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
except ImportError:  # pragma: no cover - lxml comes with python-docx
    from xml.etree.ElementTree import fromstring as _fromstring
    from xml.etree.ElementTree import iterparse

    def _iterparse(source, tags):
        return iterparse(source, events=("end",))  # the callers skip the other elements themselves

    def _drop_done(element) -> None:
        element.clear()

M = f"{{{SHEET_MAIN_NS}}}"
ROW, VALUE, INLINE, TEXT, RUN = f"{M}row", f"{M}v", f"{M}is", f"{M}t", f"{M}r"
DIMENSION, SHEET_DATA = f"{M}dimension", f"{M}sheetData"
WORKBOOK_TYPES = (XLTM, XLTX, XLSM, XLSX)


class XlsxError(ValueError):
    """The file is not a workbook this reader understands (not a zip, no worksheet, broken XML…)."""


def _text(element) -> str:
    """A string item (<si>, <is>): its plain text and the text of its runs, without phonetic runs."""
    plain, runs = None, []
    for child in element:
        if child.tag == TEXT:
            plain = child.text
        elif child.tag == RUN:
            run_text = None
            for part in child:
                if part.tag == TEXT:
                    run_text = part.text
            if run_text is not None:
                runs.append(run_text)
    return (plain or "") + "".join(runs)


def _parts(archive: zipfile.ZipFile) -> tuple[str, str | None]:
    """(workbook part, shared strings part or None) from the content types, as openpyxl finds them."""
    root = _fromstring(archive.read(ARC_CONTENT_TYPES))
    overrides = [(o.get("ContentType"), o.get("PartName", "")) for o in root.iter(f"{{{CONTYPES_NS}}}Override")]
    defaults = {d.get("ContentType") for d in root.iter(f"{{{CONTYPES_NS}}}Default")}

    def find(content_type):
        return next((name[1:] for kind, name in overrides if kind == content_type), None)

    workbook = next((part for part in map(find, WORKBOOK_TYPES) if part), None)
    if workbook is None:
        if not defaults & set(WORKBOOK_TYPES):
            raise XlsxError("no workbook part")
        workbook = ARC_WORKBOOK
    return workbook, find(SHARED_STRINGS)


def _first_worksheet(archive: zipfile.ZipFile, workbook: str) -> tuple[str, bool]:
    """(path of the first worksheet, chart sheets and missing parts passed over; whether dates use 1904)."""
    root = _fromstring(archive.read(workbook))
    properties = root.find(f"{M}workbookPr")
    date1904 = properties is not None and properties.get("date1904") not in (None, "false", "f", "0")
    folder, name = posixpath.split(workbook)
    rels_path = posixpath.join(folder, "_rels", f"{name}.rels")
    targets = {}
    for rel in _fromstring(archive.read(rels_path)).iter(f"{{{PKG_REL_NS}}}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") != "External":
            target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        targets[rel.get("Id")] = (rel.get("Type", ""), target)
    names = set(archive.namelist())
    for sheet in root.iter(f"{M}sheet"):
        rel_id = sheet.get(f"{{{REL_NS}}}id")
        if not rel_id:
            continue
        kind, target = targets[rel_id]
        if target in names and "chartsheet" not in kind:
            return target, date1904
    raise XlsxError("no worksheet")


def _date_styles(archive: zipfile.ZipFile) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles (cellXfs) whose number format is a date, and a duration."""
    if ARC_STYLE not in archive.namelist():
        return set(), set()
    root = _fromstring(archive.read(ARC_STYLE))
    custom = {}
    formats = root.find(f"{M}numFmts")
    for fmt in formats.iter(f"{M}numFmt") if formats is not None else ():
        custom[int(fmt.get("numFmtId"))] = fmt.get("formatCode")
    dates, durations = set(), set()
    xfs = root.find(f"{M}cellXfs")
    for index, xf in enumerate(xfs.iter(f"{M}xf") if xfs is not None else ()):
        number = int(xf.get("numFmtId", 0))
        fmt = custom[number] if number in custom else BUILTIN_FORMATS.get(number)
        if is_date_format(fmt):
            dates.add(index)
        if is_timedelta_format(fmt):
            durations.add(index)
    return dates, durations


def _shared_strings(archive: zipfile.ZipFile, part: str | None) -> list[str]:
    if part is None:
        return []
    strings = []
    with archive.open(part) as source:
        for _event, element in _iterparse(source, (f"{M}si",)):
            if element.tag == f"{M}si":
                strings.append(_text(element).replace("x005F_", ""))
                _drop_done(element)
    return strings


def _cast_number(text: str):
    return float(text) if "." in text or "E" in text or "e" in text else int(text)


class _Sheet:
    def __init__(self, strings: list[str], dates: set[int], durations: set[int], epoch):
        self.strings, self.dates, self.durations, self.epoch = strings, dates, durations, epoch
        self.columns: dict[str, int] = {}

    def column(self, coordinate: str) -> int:
        letters = coordinate.rstrip("0123456789")
        if letters not in self.columns:
            if not letters or letters == coordinate:
                raise XlsxError(f"bad cell reference {coordinate!r}")
            self.columns[letters] = column_index_from_string(letters)
        return self.columns[letters]

    def value(self, cell, kind: str):
        """One <c>'s value (its type `kind` not inlineStr), as openpyxl's WorkSheetParser.parse_cell gives it with
        data_only=True."""
        text = cell.findtext(VALUE) or None
        if text is None:
            return None
        if kind == "n":
            value = _cast_number(text)
            style = int(cell.get("s") or 0)
            if style in self.dates:
                try:
                    return from_excel(value, self.epoch, timedelta=style in self.durations)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return value
        if kind == "s":
            return self.strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        return text  # str (a formula's text result), e (an error code)

    def row(self, element, max_col: int | None) -> tuple:
        cells, column, columns = [], 0, self.columns
        for cell in element:
            if not isinstance(cell.tag, str):
                continue  # a comment
            coordinate = cell.get("r")
            if coordinate:
                letters = coordinate.rstrip("0123456789")
                column = columns[letters] if letters in columns else self.column(coordinate)
            else:
                column += 1
            kind = cell.get("t", "n")
            if kind == "inlineStr":  # what the export (and openpyxl's write-only mode) writes
                inline = cell.find(INLINE)
                value = _text(inline) if inline is not None else None
            else:
                value = self.value(cell, kind)
            cells.append((column, value))
        if not cells and not max_col:
            return ()
        width = max_col or cells[-1][0]
        out = [None] * width
        for column, value in cells:
            if 1 <= column <= width:
                out[column - 1] = value
        return tuple(out)


def _row_number(element, previous: int) -> int:
    text = element.get("r")
    if text is None:
        return previous + 1
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise XlsxError(f"{text} is not a valid row number") from None
        return int(number)


def iter_values(data: bytes) -> Iterator[tuple]:
    """The rows of the first worksheet as tuples of values (None for an empty cell)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        workbook, strings_part = _parts(archive)
        path, date1904 = _first_worksheet(archive, workbook)
        dates, durations = _date_styles(archive)
        sheet = _Sheet(_shared_strings(archive, strings_part), dates, durations,
                       CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900)
    except XlsxError:
        raise
    except Exception as exc:  # a broken zip, XML, relationship…
        raise XlsxError(str(exc)) from exc
    yield from _sheet_rows(archive, path, sheet)


def _sheet_rows(archive: zipfile.ZipFile, path: str, sheet: _Sheet) -> Iterator[tuple]:
    """openpyxl's ReadOnlyWorksheet._cells_by_row(1, 1, max_col, max_row, values_only=True), where max_col and
    max_row come from the sheet's <dimension> (None without one)."""
    max_col = max_row = None
    sized = False  # the <dimension> counts only before the sheet data, as openpyxl reads it
    counter, number = 1, 1
    empty_row: tuple = ()
    try:
        with archive.open(path) as source:
            row_counter = 0
            for _event, element in _iterparse(source, (ROW, DIMENSION, SHEET_DATA)):
                tag = element.tag
                if tag == DIMENSION and not sized:
                    _min_col, _min_row, max_col, max_row = range_boundaries(element.get("ref"))
                    empty_row = (None,) * max_col if max_col is not None else ()
                    sized = True
                    continue
                if tag == SHEET_DATA:
                    sized = True
                    continue
                if tag != ROW:
                    continue
                sized = True
                number = row_counter = _row_number(element, row_counter)
                if max_row is not None and number > max_row:
                    break
                for _ in range(counter, number):  # rows the file leaves out
                    counter += 1
                    yield empty_row
                if counter <= number:
                    counter += 1
                    yield sheet.row(element, max_col)
                _drop_done(element)
    except XlsxError:
        raise
    except Exception as exc:
        raise XlsxError(str(exc)) from exc
    if max_row is not None and max_row < number:
        for _ in range(counter, max_row + 1):
            yield empty_row


# ---------------------------------------------------------------- writing


ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")  # not allowed in XML 1.0 (openpyxl refuses them too)
_MARKER = "govrisk-streamed-rows-6b1f0c2e"


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return ILLEGAL.sub("", text)


def _number(value) -> str:
    return "" if math.isnan(value) or math.isinf(value) else f"{value:.16g}"  # as openpyxl writes numbers


def _row_xml(number: int, values, letters: list[str], style: str) -> str:
    """A <row> as openpyxl's write-only mode writes styled WriteOnlyCells (text always as text)."""
    cells = []
    for index, value in enumerate(values):
        if index >= len(letters):
            letters.append(get_column_letter(index + 1))
        ref = f"{letters[index]}{number}"
        if value is None:
            cells.append(f'<c r="{ref}" s="{style}" t="n"></c>')
        elif isinstance(value, str):
            if not value:
                cells.append(f'<c r="{ref}" s="{style}" t="inlineStr"></c>')
            else:
                space = ' xml:space="preserve"' if value != value.strip() else ""
                cells.append(f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>')
        elif isinstance(value, bool):
            cells.append(f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, int | float):
            cells.append(f'<c r="{ref}" s="{style}" t="n"><v>{_number(value)}</v></c>')
        else:
            raise TypeError(f"cannot write {type(value).__name__} in a streamed row")
    return f'<row r="{number}">{"".join(cells)}</row>'


def save_streamed(workbook, sheet, rows: Iterable[Sequence], *, style_cell: Callable[[object], object],
                  compresslevel: int = 6) -> bytes:
    """Save a write-only openpyxl `workbook` whose `sheet` goes on with `rows` after what was appended to it, the
    rows written as XML text rather than one openpyxl cell object per value (the cost of a large export). Every cell
    of `rows` gets the style of `style_cell(value)` (a styled WriteOnlyCell); values are str (always text, never a
    formula; characters XML cannot hold are left out), int, float, bool or None. The result is the workbook openpyxl
    writes cell by cell, with the rows' text in UTF-8."""
    sheet.append([style_cell(_MARKER)])  # shows where the rows go, and their style's number
    skeleton = io.BytesIO()
    workbook.save(skeleton)
    source = zipfile.ZipFile(skeleton)
    path = next(n for n in source.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    xml = source.read(path).decode("utf-8")
    marker = xml.index(_MARKER)
    start, end = xml.rindex("<row ", 0, marker), xml.index("</row>", marker) + len("</row>")
    first = int(re.match(r'<row r="(\d+)"', xml[start:]).group(1))
    style = re.search(r' s="(\d+)"', xml[start:marker]).group(1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as target:
        for info in source.infolist():
            if info.filename != path:
                target.writestr(info, source.read(info))
                continue
            with target.open(path, "w", force_zip64=True) as stream:
                stream.write(xml[:start].encode())
                letters: list[str] = []
                chunk: list[str] = []
                for number, values in enumerate(rows, start=first):
                    chunk.append(_row_xml(number, values, letters, style))
                    if len(chunk) == 500:
                        stream.write("".join(chunk).encode())
                        chunk.clear()
                stream.write("".join(chunk).encode())
                stream.write(xml[end:].encode())
    return out.getvalue()
