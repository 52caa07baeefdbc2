"""core.pdf: CJK font registration and embedding, styles, tables, page furniture, reproducible output."""

import base64
import re
import shutil
import subprocess
import zlib

import pytest
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import PageBreak, Paragraph, Table

from govrisk.core import pdf

PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture(autouse=True)
def _no_font_override(monkeypatch):
    monkeypatch.delenv(pdf.FONT_ENV_VAR, raising=False)


# --------------------------------------------------------------------------------------------
# text extraction: poppler when installed, and a small pure reader for ReportLab's own output
# --------------------------------------------------------------------------------------------


def _literal(data: bytes, i: int) -> tuple[bytes, int]:
    """Parse a PDF literal string starting after '(' at data[i]; return (bytes, index after ')')."""
    out, depth = bytearray(), 1
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < len(data):
        c = data[i]
        if c == 0x5C:  # backslash
            nxt = data[i + 1]
            if 0x30 <= nxt <= 0x37:
                j = i + 1
                while j < min(i + 4, len(data)) and 0x30 <= data[j] <= 0x37:
                    j += 1
                out.append(int(data[i + 1:j], 8) & 0xFF)
                i = j
                continue
            if nxt in (0x0A, 0x0D):
                i += 2
                continue
            out += escapes.get(nxt, bytes([nxt]))
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1
    raise ValueError("unterminated string")


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj\s(.*?)endobj", data, re.S)}


def _stream(body: bytes) -> bytes:
    start = body.index(b"stream") + len(b"stream")
    if body[start:start + 2] == b"\r\n":
        start += 2
    elif body[start:start + 1] == b"\n":
        start += 1
    raw = body[start:body.rindex(b"endstream")].rstrip(b"\r\n")
    head = body[:start]
    if b"/ASCII85Decode" in head:
        raw = raw.strip()
        raw = base64.a85decode(raw[:-2] if raw.endswith(b"~>") else raw)
    if b"/FlateDecode" in head:
        raw = zlib.decompress(raw)
    return raw


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            base = int(dst, 16)
            for k, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(base + k)
    return mapping


def pure_text(data: bytes) -> list[str]:
    """Text of each page of a ReportLab PDF (simple fonts with ToUnicode maps, Tj strings)."""
    objs = _objects(data)
    fonts: dict[bytes, dict[int, str]] = {}
    for body in objs.values():
        name = re.search(rb"/Name /(\S+)", body)
        uni = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if name and uni:
            fonts[name.group(1)] = _cmap(_stream(objs[int(uni.group(1))]))
    kids = re.search(rb"/Kids \[([^\]]*)\]", data)
    pages = [int(n) for n in re.findall(rb"(\d+) 0 R", kids.group(1))]
    texts = []
    for page in pages:
        content = _stream(objs[int(re.search(rb"/Contents (\d+) 0 R", objs[page]).group(1))])
        out, font, i = [], {}, 0
        token = re.compile(rb"/([^\s/\[\]()<>]+)\s+[\d.]+\s+Tf|\(|ET")
        while True:
            m = token.search(content, i)
            if not m:
                break
            if m.group(0) == b"(":
                s, i = _literal(content, m.end())
                out.append("".join(font.get(b, "") if font else chr(b) for b in s))
                continue
            if m.group(0) == b"ET":
                out.append("\n")
            else:
                font = fonts.get(m.group(1), {})
            i = m.end()
        texts.append("".join(out))
    return texts


def poppler_text(data: bytes, tmp_path, first: int | None = None, last: int | None = None) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    args = [PDFTOTEXT, "-enc", "UTF-8"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run([*args, str(path), "-"], check=True, capture_output=True).stdout.decode("utf-8")


def squash(text: str) -> str:
    return "".join(text.split())


# --------------------------------------------------------------------------------------------
# stories
# --------------------------------------------------------------------------------------------

BODY = "本单位共梳理权力事项一百二十项，排查廉政风险点三百四十个，制定防控措施五百条。"


def report_story(rows: int = 80) -> list:
    st = pdf.styles()
    data = [["序号", "风险点", "等级", "防控措施"]]
    measure = "集体审议，双人复核，全程留痕。"
    data += [[i, f"行政审批自由裁量风险{i}", "一级" if i % 3 == 0 else "二级", measure * (1 + i % 3)]
             for i in range(1, rows + 1)]
    drawing = Drawing(300, 80)
    drawing.add(Rect(0, 0, 300, 80, fillColor=None, strokeColor=None))
    drawing.add(String(10, 30, "图表中文标签", fontName=pdf.cjk_font_name(), fontSize=14))
    return [
        Paragraph("廉政风险防控年度报告", st["title"]),
        Paragraph("一、基本情况", st["h1"]),
        Paragraph(BODY, st["body"]),
        pdf.table(data),
        pdf.drawing_flowable(drawing, 400),
    ]


# --------------------------------------------------------------------------------------------
# font
# --------------------------------------------------------------------------------------------


def test_font_registers_once_with_a_bold_name():
    name = pdf.cjk_font_name()
    assert pdf.cjk_font_name() == name
    font = pdfmetrics.getFont(name)
    assert isinstance(font, TTFont)
    assert "廉" in [chr(c) for c in font.face.charToGlyph if c == ord("廉")]
    bold = pdf.cjk_bold_font_name()
    assert bold == f"{name}-Bold"
    assert pdfmetrics.getFont(bold) is font  # same face, one subset in the PDF
    # <b> in a paragraph resolves to the registered bold name instead of failing
    Paragraph("<b>加粗</b>正文", pdf.styles()["body"]).wrap(200, 100)


def test_font_comes_from_the_installed_package():
    path = pdf._packaged_font()
    assert path is not None and path.is_file() and path.suffix.lower() in (".ttc", ".ttf")


def test_env_var_points_to_another_font(monkeypatch, tmp_path):
    copy = tmp_path / "custom-cjk.ttc"
    shutil.copyfile(pdf._packaged_font(), copy)
    monkeypatch.setenv(pdf.FONT_ENV_VAR, str(copy))
    name = pdf.cjk_font_name()
    assert name != "GovriskCJK" and name.startswith("GovriskCJK-")
    data = pdf.build_pdf([Paragraph("自定义字体", pdf.styles()["body"])], title="字体")
    assert b"/FontFile2" in data


def test_env_var_missing_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(pdf.FONT_ENV_VAR, str(tmp_path / "nope.ttf"))
    with pytest.raises(RuntimeError, match=pdf.FONT_ENV_VAR):
        pdf.cjk_font_name()


def test_env_var_not_a_truetype_font(monkeypatch, tmp_path):
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"this is not a font")
    monkeypatch.setenv(pdf.FONT_ENV_VAR, str(bogus))
    with pytest.raises(RuntimeError, match=pdf.FONT_ENV_VAR):
        pdf.cjk_font_name()


def test_no_font_anywhere_names_the_env_var(monkeypatch):
    monkeypatch.setattr(pdf, "FONT_PACKAGES", ("no-such-font-package-xyz",))
    with pytest.raises(RuntimeError, match=pdf.FONT_ENV_VAR):
        pdf.cjk_font_name()
    with pytest.raises(RuntimeError, match=pdf.FONT_ENV_VAR):
        pdf.build_pdf([], title="无字体")


# --------------------------------------------------------------------------------------------
# styles and documents
# --------------------------------------------------------------------------------------------


def test_styles_are_cjk():
    st = pdf.styles()
    for key in ("title", "h1", "h2", "body", "small", "cell"):
        assert st[key].wordWrap == "CJK"
        assert st[key].fontName.startswith(pdf.cjk_font_name())
    assert pdf.styles()["body"] is not st["body"]  # fresh objects, safe to modify


def test_pdf_embeds_the_font_subset():
    data = pdf.build_pdf(report_story(5), title="嵌入")
    assert data.startswith(b"%PDF-")
    assert b"/FontFile2" in data
    face = pdfmetrics.getFont(pdf.cjk_font_name()).face.name
    assert re.search(rb"/BaseFont /[A-Z]{6}\+" + re.escape(face), data)
    # nothing left to the viewer's fonts: every /BaseFont is an embedded subset
    assert all(b"+" in name for name in re.findall(rb"/BaseFont /(\S+)", data))


def test_chinese_text_round_trips_pure():
    data = pdf.build_pdf(report_story(5), title="往返测试")
    text = squash("".join(pure_text(data)))
    for phrase in ("廉政风险防控年度报告", BODY, "行政审批自由裁量风险3", "图表中文标签", "第1页/共1页", "往返测试"):
        assert squash(phrase) in text


@pytest.mark.skipif(not PDFTOTEXT, reason="poppler-utils not installed")
def test_chinese_text_round_trips_pdftotext(tmp_path):
    data = pdf.build_pdf(report_story(5), title="往返测试")
    text = squash(poppler_text(data, tmp_path))
    for phrase in ("廉政风险防控年度报告", BODY, "行政审批自由裁量风险3", "图表中文标签", "第1页/共1页"):
        assert squash(phrase) in text


def test_same_input_gives_identical_bytes():
    first = pdf.build_pdf(report_story(), title="确定性", subject="测试")
    second = pdf.build_pdf(report_story(), title="确定性", subject="测试")
    assert first == second
    other = pdf.build_pdf(report_story(), title="确定性（改）", subject="测试")
    assert other != first


def test_footer_counts_pages_and_header_repeats_title():
    story = [Paragraph("第一页内容", pdf.styles()["body"]), PageBreak(), Paragraph("第二页", pdf.styles()["body"]),
             PageBreak(), Paragraph("第三页", pdf.styles()["body"])]
    pages = [squash(t) for t in pure_text(pdf.build_pdf(story, title="页码测试"))]
    assert len(pages) == 3
    for n, text in enumerate(pages, start=1):
        assert f"第{n}页/共3页" in text
        assert "页码测试" in text


def test_metadata(tmp_path):
    data = pdf.build_pdf([], title="元数据标题", author="纪检组", subject="年度")

    def pdf_string(key: bytes) -> str:
        m = re.search(rb"/" + key + rb" \(", data)
        raw, _ = _literal(data, m.end())
        return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")

    assert pdf_string(b"Title") == "元数据标题"
    assert pdf_string(b"Author") == "纪检组"
    assert pdf_string(b"Subject") == "年度"
    assert pdf_string(b"Creator") == "govrisk"
    assert b"/Lang (zh-CN)" in data
    assert len(pure_text(data)) == 1  # an empty story still gives a page


def test_landscape_pages():
    data = pdf.build_pdf([Paragraph("横向", pdf.styles()["body"])], title="横向", landscape=True)
    box = [float(v) for v in re.search(rb"/MediaBox \[ ([^\]]+) \]", data).group(1).split()]
    assert box[2] > box[3]


# --------------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------------


def test_table_repeats_header_on_every_page():
    t = pdf.table([["单位", "数量"]] + [[f"单位{i}", i] for i in range(200)])
    assert isinstance(t, Table) and t.repeatRows == 1
    pages = [squash(p) for p in pure_text(pdf.build_pdf([t], title="长表"))]
    assert len(pages) > 2
    assert all("单位数量" in p for p in pages)


def test_table_cells_escape_markup_and_format_values():
    t = pdf.table([["名称", "值", "是否"], ["<b>A&B</b>", 3.5, True], ["换行\n第二行", None, False]])
    text = squash("".join(pure_text(pdf.build_pdf([t], title="转义"))))
    assert "<b>A&B</b>" in text
    assert "3.5" in text and "是" in text and "否" in text and "第二行" in text


def test_table_edge_cases():
    empty = pdf.table([])
    assert "暂无数据" in squash("".join(pure_text(pdf.build_pdf([empty], title="空表"))))
    ragged = pdf.table([["甲"], ["乙", "丙", "丁"]])
    assert ragged._ncols == 3
    with pytest.raises(ValueError):
        pdf.table([["a", "b"]], col_widths=[100])
    fixed = pdf.table([["a", "b"]], col_widths=[100, "40%"], header_rows=0, zebra=False)
    assert fixed.repeatRows == 0


def test_a_row_taller_than_a_page_splits_without_losing_text():
    long_text = "超长的防控措施说明。" * 400
    t = pdf.table([["序号", "措施"], [1, long_text], [2, "短"]])
    pages = pure_text(pdf.build_pdf([t], title="长单元格"))
    assert len(pages) >= 2
    assert "".join(pages).count("超") == 400


# --------------------------------------------------------------------------------------------
# drawings
# --------------------------------------------------------------------------------------------


def test_drawing_flowable_scales_down_only_and_keeps_the_original():
    d = Drawing(800, 400)
    d.add(Rect(0, 0, 800, 400))
    f = pdf.drawing_flowable(d, 400)
    assert (f.width, f.height) == (400, 200)
    assert (d.width, d.height) == (800, 400) and d.transform == (1, 0, 0, 1, 0, 0)
    g = pdf.drawing_flowable(Drawing(100, 50), 400)
    assert (g.width, g.height) == (100, 50)
    h = pdf.drawing_flowable(d, 400, max_height=100)
    assert (h.width, h.height) == (200, 100)
