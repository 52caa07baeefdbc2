"""The streaming XLSX reader of the imports gives exactly what openpyxl's read-only mode gives."""

import io
import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import Workbook, load_workbook

from govrisk.core.importer import ImportFileError, _cell_text, read_table
from govrisk.core.xlsx import iter_values


def openpyxl_rows(data: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    return rows


def assert_same(data: bytes) -> list[tuple]:
    ours = [tuple(row) for row in iter_values(data)]
    theirs = openpyxl_rows(data)
    assert ours == theirs
    assert read_table(data, "x.xlsx", max_bytes=len(data) + 1) == [[_cell_text(v) for v in r] for r in theirs]
    return ours


def saved(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_saved_by_openpyxl():
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "名称", " 前后空格 ", "=不是公式", None, "x005F_y"])
    sheet.append([1, 2.5, 3.0, True, False, -7])
    sheet.append([datetime(2026, 3, 1, 8, 30), date(2026, 3, 2), time(9, 15), "=1+1", "", "末列"])
    sheet["B6"] = "跳过了两行"
    sheet["H7"] = 1e20
    sheet["C8"].value = "文本\n换行"
    sheet["A9"] = 44000
    sheet["A9"].number_format = "yyyy-mm-dd"
    sheet["B9"] = 1.5
    sheet["B9"].number_format = "[h]:mm"
    book.create_sheet("第二张")["A1"] = "不读"
    rows = assert_same(saved(book))
    assert rows[0][:2] == ("序号", "名称") and rows[3] == (None,) * 8 and rows[5][1] == "跳过了两行"


def test_a_write_only_workbook_like_the_export():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("登记表")
    sheet.append(["某局廉政风险点登记表"])
    sheet.append(["序号", "单位/科室", "风险点"])
    for i in range(50):
        sheet.append([i, f"单位{i}", f"风险点 {i}  ", None, 1.25 * i])
    assert_same(saved(book))


def _package(sheet_xml: str, *, strings: str | None = None, styles: str | None = None, date1904: bool = False,
             chart_first: bool = False) -> bytes:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = ['<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.sheet.main+xml"/>',
             '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.worksheet+xml"/>']
    if strings is not None:
        types.append('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     'officedocument.spreadsheetml.sharedStrings+xml"/>')
    if styles is not None:
        types.append('<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
                     'officedocument.spreadsheetml.styles+xml"/>')
    sheets = '<sheet name="数据" sheetId="1" r:id="rId1"/>'
    rels = f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
    if chart_first:
        sheets = '<sheet name="图" sheetId="2" r:id="rId9"/>' + sheets
        rels += f'<Relationship Id="rId9" Type="{rel}/chartsheet" Target="/xl/chartsheets/sheet1.xml"/>'
    properties = '<workbookPr date1904="1"/>' if date1904 else ""
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
                               'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
                               'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                               'ContentType="application/xml"/>' + "".join(types) + "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
                       f'org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
                       'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
                           f'{properties}<sheets>{sheets}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                                      f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">{sheet_xml}'
                                    '</worksheet>',
    }
    if chart_first:
        files["xl/chartsheets/sheet1.xml"] = f'<chartsheet xmlns="{main}"/>'
    if strings is not None:
        files["xl/sharedStrings.xml"] = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}">{strings}</sst>'
    if styles is not None:
        files["xl/styles.xml"] = f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}">{styles}' \
                                 '</styleSheet>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


STRINGS = ('<si><t>普通</t></si>'
           '<si><r><rPr><b/></rPr><t>粗体</t></r><r><t xml:space="preserve"> 和正常 </t></r></si>'
           '<si><t>带注音</t><rPh sb="0" eb="1"><t>ちゅう</t></rPh></si>'
           '<si><t>_x005F_x000D_ 转义</t></si><si><t/></si>')
STYLES = ('<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
          '<numFmt numFmtId="165" formatCode="[h]:mm:ss"/></numFmts>'
          '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/>'
          '<xf numFmtId="4"/></cellXfs>'
          '<dxfs count="1"><dxf><numFmt numFmtId="164" formatCode="0.00"/></dxf></dxfs>')


@pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl: no default style; a date out of range
@pytest.mark.parametrize("date1904", [False, True])
def test_an_excel_style_package(date1904):
    sheet = ('<dimension ref="A1:F6"/><sheetData>'
             '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
             '<c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c></row>'
             '<row r="2"><c r="A2" s="1"><v>45000</v></c><c r="B2" s="2"><v>45000.5</v></c>'
             '<c r="C2" s="3"><v>1.75</v></c><c r="D2" s="4"><v>1234.5</v></c><c r="E2" s="1"><v>0.25</v></c>'
             '<c r="F2" s="2"><v>1E+300</v></c></row>'
             '<row r="4"><c r="B4" t="b"><v>1</v></c><c r="C4" t="e"><v>#N/A</v></c>'
             '<c r="D4" t="str"><f>A1&amp;B1</f><v>普通粗体</v></c><c r="E4"><f>1+1</f></c>'
             '<c r="F4" t="d"><v>2026-01-02T03:04:05</v></c></row>'
             '<row><c t="inlineStr"><is><r><t>行内</t></r><r><t>多段</t></r></is></c><c><v>7</v></c>'
             '<c r="E5" t="inlineStr"><is><t>末</t></is></c></row>'
             '</sheetData>')
    rows = assert_same(_package(sheet, strings=STRINGS, styles=STYLES, date1904=date1904))
    assert rows[0] == ("普通", "粗体 和正常 ", "带注音", "_x000D_ 转义", "", None) and rows[2] == (None,) * 6
    assert rows[4][:2] == ("行内多段", 7) and isinstance(rows[1][0], datetime)


def test_dimension_and_unsized_sheets_and_odd_rows():
    rows = ('<row r="2"><c r="B2"><v>1</v></c><c r="D2"><v>2</v></c></row>'
            '<row r="2.0"><c r="A2" t="inlineStr"><is><t>重复的行号</t></is></c></row>'
            '<row r="5"><c r="A5" t="inlineStr"><is><t>第五行</t></is></c></row>')
    for dimension in ("", '<dimension ref="A1:C3"/>', '<dimension ref="A1:Z9"/>', '<dimension ref="A1"/>'):
        assert_same(_package(f"{dimension}<sheetData>{rows}</sheetData>"))
    assert_same(_package('<sheetData/><dimension ref="A1:B2"/>'))
    # a chart sheet before the first worksheet is passed over (openpyxl stumbles on this minimal one)
    chart_first = [tuple(r) for r in iter_values(_package(f"<sheetData>{rows}</sheetData>", chart_first=True))]
    assert chart_first == [(), (None, 1, None, 2), (), (), ("第五行",)]


def test_unreadable_files_are_refused_as_before():
    for data in (b"PK\x03\x04 not really a zip", _package("<sheetData><row><c><v>1</sheetData>")):
        with pytest.raises(ImportFileError, match="无法读取该 XLSX 文件"):
            read_table(data, "x.xlsx", max_bytes=10_000)
