""".docx and PDF inputs, written here by python-docx and fpdf2 (a real text layer with
Cyrillic in an embedded DejaVu font): the same sentences as the same text in a .txt, their
properties as metadata, and one clear line for each kind of bad file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from corpus.errors import InputError
from corpus.sources import read_source
from corpus.types import Document
from translate.segment import segment

HEADING = "Положение на севере Сирии"
PARAGRAPHS = [
    "Отряды сирийской оппозиции в четверг вечером вошли в центр Хамы, четвертого по величине "
    "города страны, после трех дней ожесточенных боев на северных окраинах.",
    "Представитель Командования военных операций Хассан Абдуль Гани заявил, что город "
    "полностью освобожден. По его словам, правительственные войска отступили на юг, в "
    "сторону Хомса, оставив технику и склады с боеприпасами.",
    "Министерство обороны Сирии назвало отход «тактической передислокацией» и сообщило, что "
    "подкрепления направлены для обеспечения безопасности района. Независимого "
    "подтверждения этим данным пока нет.",
    "Жители города рассказали корреспонденту, что ночью на улицах было слышно стрельбу, а "
    "утром в центр вышли сотни людей. Многие семьи, покинувшие Хаму в последние дни, начали "
    "возвращаться домой.",
    "Хама имеет ключевое значение для контроля над трассой М5, которая связывает Алеппо с "
    "Дамаском. Военные эксперты считают, что следующей целью наступления станет Хомс.",
    "В Идлибе и на западе провинции Алеппо продолжается гуманитарный кризис: по данным ООН, "
    "за неделю свои дома покинули более пятидесяти тысяч человек.",
]
TABLE = [["Город", "Контроль"], ["Хама", "оппозиция"], ["Хомс", "правительство"]]
FOOTNOTE = "По данным Сирийской обсерватории по правам человека."


def _sentences(text: str) -> list[str]:
    return [s.ru for s in segment(text)]


def _read(path: Path) -> Document:
    items = list(read_source(str(path)))
    assert len(items) == 1 and isinstance(items[0], Document), items
    return items[0]


def _txt(tmp_path: Path, paragraphs: list[str]) -> Document:
    path = tmp_path / "same.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return _read(path)


# ------------------------------------------------------------------ .docx


def _docx(path: Path, footnote: bool = True) -> Path:
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    document = docx.Document()
    document.core_properties.title = "Положение на севере Сирии"
    document.core_properties.author = "Ирина Соколова"
    document.core_properties.language = "ru-RU"
    document.add_heading(HEADING, level=1)
    for text in PARAGRAPHS[:3]:
        document.add_paragraph(text)
    table = document.add_table(rows=len(TABLE), cols=2)
    for row, cells in zip(table.rows, TABLE, strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    # a paragraph in runs, as Word saves edited text, with the footnote's mark in it
    paragraph = document.add_paragraph()
    for piece in (PARAGRAPHS[3][:40], PARAGRAPHS[3][40:]):
        paragraph.add_run(piece).bold = piece.startswith("Жители")
    for text in PARAGRAPHS[4:]:
        document.add_paragraph(text)
    if footnote:  # python-docx writes no footnotes: the part Word writes, added by hand
        w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        notes = (f'<w:footnotes {w}><w:footnote w:type="separator" w:id="-1"><w:p><w:r>'
                 '<w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1"><w:p><w:r>'
                 f'<w:t xml:space="preserve"> {FOOTNOTE}</w:t></w:r></w:p></w:footnote>'
                 '</w:footnotes>')
        part = Part(PackURI("/word/footnotes.xml"), "application/vnd.openxmlformats-"
                    "officedocument.wordprocessingml.footnotes+xml", notes.encode(),
                    document.part.package)
        document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
        paragraph._p.append(parse_xml(f'<w:r {w}><w:footnoteReference w:id="1"/></w:r>'))
    document.save(path)
    return path


def test_docx_gives_the_sentences_of_the_same_txt(tmp_path: Path) -> None:
    document = _read(_docx(tmp_path / "report.docx"))
    in_order = [HEADING, *PARAGRAPHS[:3], *(c for row in TABLE for c in row), *PARAGRAPHS[3:],
                FOOTNOTE]
    assert document.text == "\n\n".join(in_order)
    assert _sentences(document.text) == _sentences(_txt(tmp_path, in_order).text)
    assert document.title == "Положение на севере Сирии"
    assert document.metadata["author"] == "Ирина Соколова"
    assert document.metadata["language"] == "ru"
    assert len(document.metadata["published"]) == 10  # the date it was made, YYYY-MM-DD


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


SPREADSHEET = _zip({
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.'
    'org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="'
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    'formats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>',
    "xl/workbook.xml": "<workbook/>"})


@pytest.mark.parametrize(("data", "message"), [
    (_zip({"photos/1.txt": "не документ"}), r"not a Word document \(\.docx\): a ZIP archive "
                                            "without Word's parts"),
    (SPREADSHEET, r"not a Word document \(\.docx\): its content is .*spreadsheetml"),
    ("Просто текст.".encode(), r"not a Word document \(\.docx\): not a ZIP archive"),
])
def test_a_docx_that_is_not_one_is_one_line(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "renamed.docx"
    path.write_bytes(data)
    with pytest.raises(InputError, match=rf"^{path}: {message}") as caught:
        list(read_source(str(path)))
    assert "\n" not in str(caught.value)


# ------------------------------------------------------------------ PDF

FONT = Path(__import__("matplotlib").get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
RUNNING_HEAD = "Вестник Востока — обзор событий в Сирии"


def _lines(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, a long word hyphenated at a line end as a
    typesetter would (`освобо-` / `жден`)."""
    lines, line = [], ""
    for word in text.split():
        room = width - len(line) - 1
        if line and len(word) > room:
            if room >= 4 and len(word) >= 8 and word[:room - 1].isalpha():
                lines.append(f"{line} {word[:room - 1]}-")
                line = word[room - 1:]
                continue
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def _pdf(path: Path, paragraphs: list[str], *, text_layer: bool = True,
         password: str = "") -> Path:
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("dejavu", size=9)
            self.cell(0, 8, RUNNING_HEAD, align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(6)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("dejavu", size=9)
            self.cell(0, 10, f"Страница {self.page_no()}", align="C")

    pdf = Report() if text_layer else FPDF()  # a scan has no running head either
    pdf.add_font("dejavu", fname=str(FONT))
    pdf.set_title("Обзор событий")
    pdf.set_author("Ирина Соколова")
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.add_page()
    pdf.set_font("dejavu", size=14)
    if not text_layer:  # a scan: only a picture (here a drawn box) on each page
        pdf.rect(20, 40, 170, 200, style="F")
    for paragraph in paragraphs if text_layer else ():
        for line in _lines(paragraph, 55):
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
    pdf.output(str(path))
    return path


def test_pdf_gives_the_sentences_of_the_same_txt(tmp_path: Path) -> None:
    paragraphs = [HEADING, *PARAGRAPHS, *PARAGRAPHS[:3]]  # two pages: a break mid-paragraph
    document = _read(_pdf(tmp_path / "report.pdf", paragraphs))
    assert document.metadata["pages"] >= 2
    assert RUNNING_HEAD not in document.text and "Страница" not in document.text
    assert "освобожден" in document.text and "-\n" not in document.text
    assert _sentences(document.text) == _sentences(_txt(tmp_path, paragraphs).text)
    assert document.title == "Обзор событий"
    assert document.metadata["author"] == "Ирина Соколова"


def test_a_hyphenated_line_end_is_rejoined() -> None:
    assert any(line.endswith("-") for p in PARAGRAPHS for line in _lines(p, 55))  # the test


@pytest.mark.parametrize(("kind", "message"), [
    ("scanned", r"a PDF without a text layer \(scanned pages\?\); run OCR on it"),
    ("encrypted", r"an encrypted PDF; it needs a password"),
    ("cut off", r"a broken PDF, cannot be read"),
    ("not a PDF", r"not a PDF \(it does not start with %PDF-\)"),
])
def test_a_pdf_that_cannot_be_read_says_why_in_one_line(tmp_path: Path, kind: str,
                                                        message: str) -> None:
    path = tmp_path / "report.pdf"
    if kind == "scanned":
        _pdf(path, [], text_layer=False)
    elif kind == "encrypted":
        _pdf(path, PARAGRAPHS[:2], password="secret")
    elif kind == "cut off":
        whole = _pdf(tmp_path / "whole.pdf", PARAGRAPHS).read_bytes()
        path.write_bytes(whole[:len(whole) // 3])
    else:
        path.write_text("<html><body>Ошибка 404</body></html>", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{path}: {message}") as caught:
        list(read_source(str(path)))
    assert "\n" not in str(caught.value)
