"""Termbases as terminology tools export them: TBX v2 (MultiTerm, Weblate, IATE) and v3
(TBX-Basic in DCA and DCT style), several terms per concept, polysemy, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.errors import FormatError
from corpus.types import SentencePair
from translate.cli import app
from translate.glossary import Glossary, load_glossary
from translate.glossary.audit import audit
from translate.glossary.load import read_file
from translate.glossary.verify import rewrite_variants

# MultiTerm's TBX export: UTF-16 with a BOM, upper-case locale codes, ntig/termGrp, the older
# normativeAuthorization status, definitions in descripGrp.
MULTITERM = """<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd">
<martif type="TBX" xml:lang="en-US">
  <martifHeader><fileDesc><sourceDesc><p>Exported from SDL MultiTerm</p></sourceDesc>
  </fileDesc></martifHeader>
  <text><body>
    <termEntry id="_1">
      <descripGrp><descrip type="definition">armed forces of the Syrian government</descrip>
      </descripGrp>
      <langSet xml:lang="RU-RU">
        <ntig><termGrp><term>Сирийская арабская армия</term>
          <termNote type="normativeAuthorization">preferredTerm</termNote></termGrp></ntig>
        <ntig><termGrp><term>САА</term></termGrp></ntig>
      </langSet>
      <langSet xml:lang="EN-US">
        <ntig><termGrp><term>Syrian Army</term>
          <termNote type="normativeAuthorization">admittedTerm</termNote></termGrp></ntig>
        <ntig><termGrp><term>Syrian Arab Army</term>
          <termNote type="normativeAuthorization">preferredTerm</termNote></termGrp></ntig>
        <ntig><termGrp><term>Arab Syrian Army</term>
          <termNote type="normativeAuthorization">deprecatedTerm</termNote></termGrp></ntig>
      </langSet>
    </termEntry>
  </body></text>
</martif>
"""

# Weblate's glossary download: TBX v2, tig, <note> for the explanation, a langSet per language.
WEBLATE = """<?xml version='1.0' encoding='UTF-8'?>
<martif xmlns="urn:iso:std:iso:30042:ed-1" type="TBX" xml:lang="en">
<martifHeader><fileDesc><sourceDesc><p>Weblate glossary</p></sourceDesc></fileDesc>
</martifHeader>
<text><body>
<termEntry id="42"><langSet xml:lang="en"><tig><term>upload</term></tig></langSet>
<langSet xml:lang="ru"><tig><term>отправить</term></tig></langSet>
<note>send a file to the server</note></termEntry>
<termEntry id="43"><langSet xml:lang="en"><tig><term>push</term></tig></langSet>
<langSet xml:lang="ru"><tig><term>отправить</term></tig></langSet>
<note>git: send commits to a remote</note></termEntry>
<termEntry id="44"><langSet xml:lang="en"><tig><term>repository</term></tig></langSet>
<langSet xml:lang="ru"><tig><term>репозиторий</term></tig></langSet></termEntry>
</body></text></martif>
"""

# IATE's TBX download: several languages per concept, subject field, term type and
# reliability, administrativeStatus with the -admn-sts suffix; some concepts lack Russian.
IATE = """<?xml version="1.0" encoding="UTF-8"?>
<martif type="TBX" xml:lang="en">
<text><body>
<termEntry id="IATE-3541095">
  <descripGrp><descrip type="subjectField">armed forces</descrip></descripGrp>
  <langSet xml:lang="de"><tig><term>Waffenstillstand</term>
    <termNote type="termType">fullForm</termNote></tig></langSet>
  <langSet xml:lang="en">
    <tig><term>ceasefire</term><termNote type="termType">fullForm</termNote>
      <descrip type="reliabilityCode">3</descrip>
      <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></tig>
    <tig><term>cease-fire</term>
      <termNote type="administrativeStatus">admittedTerm-admn-sts</termNote></tig>
    <tig><term>truce</term>
      <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></tig>
  </langSet>
  <langSet xml:lang="ru"><tig><term>прекращение огня</term>
    <descrip type="reliabilityCode">3</descrip></tig>
    <tig><term>перемирие</term></tig></langSet>
</termEntry>
<termEntry id="IATE-889">
  <langSet xml:lang="de"><tig><term>Flüchtling</term></tig></langSet>
  <langSet xml:lang="en"><tig><term>refugee</term></tig></langSet>
</termEntry>
<termEntry id="IATE-901">
  <langSet xml:lang="ru"><tig><term>беженец</term></tig></langSet>
  <langSet xml:lang="fr"><tig><term>réfugié</term></tig></langSet>
</termEntry>
</body></text></martif>
"""

# TBX v3, TBX-Basic in DCA style: default namespace, conceptEntry/langSec/termSec.
TBX3_DCA = """\ufeff<?xml version="1.0" encoding="UTF-8"?>
<?xml-model href="TBXcoreStructV03_TBX-Basic_integrated.rng" type="application/xml"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
  <tbxHeader><fileDesc><sourceDesc><p>desk termbase</p></sourceDesc></fileDesc></tbxHeader>
  <text><body>
    <conceptEntry id="c1">
      <descrip type="subjectField">politics</descrip>
      <langSec xml:lang="en">
        <descrip type="definition">the government of Bashar al-Assad</descrip>
        <termSec><term>the Assad regime</term>
          <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termSec>
        <termSec><term>the regime of Assad</term>
          <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></termSec>
      </langSec>
      <langSec xml:lang="ru">
        <termSec><term>режим Асада</term>
          <termNote type="partOfSpeech">noun</termNote></termSec>
        <termSec><term>асадовский режим</term></termSec>
      </langSec>
    </conceptEntry>
  </body></text>
</tbx>
"""

# TBX v3 in DCT style: data categories as namespaced elements, core elements prefixed too.
TBX3_DCT = """<?xml version="1.0" encoding="UTF-8"?>
<tbx:tbx xmlns:tbx="urn:iso:std:iso:30042:ed-2" xmlns:basic="http://www.tbxinfo.net/ns/basic"
  type="TBX-Basic" style="dct" xml:lang="ru">
 <tbx:text><tbx:body>
  <tbx:conceptEntry id="7">
   <tbx:langSec xml:lang="ru-RU"><tbx:termSec><tbx:term>Хама</tbx:term></tbx:termSec>
   </tbx:langSec>
   <tbx:langSec xml:lang="en-GB">
    <tbx:termSec><tbx:term>Hamah</tbx:term>
     <basic:administrativeStatus>admittedTerm-admn-sts</basic:administrativeStatus>
    </tbx:termSec>
    <tbx:termSec><tbx:term>Hama</tbx:term>
     <basic:administrativeStatus>preferredTerm-admn-sts</basic:administrativeStatus>
    </tbx:termSec>
    <tbx:termSec><tbx:term>Khama</tbx:term>
     <basic:administrativeStatus>supersededTerm-admn-sts</basic:administrativeStatus>
    </tbx:termSec>
   </tbx:langSec>
  </tbx:conceptEntry>
 </tbx:body></tbx:text>
</tbx:tbx>
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _by_ru(path: Path) -> dict[str, object]:
    return {e.ru: e for e in read_file(path).entries}


def test_multiterm_utf16_preferred_admitted_and_deprecated(tmp_path: Path) -> None:
    path = _write(tmp_path, "army.tbx", MULTITERM, "utf-16")  # Python writes the BOM
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    entries = _by_ru(path)
    assert set(entries) == {"Сирийская арабская армия", "САА"}  # each Russian term an entry
    for entry in entries.values():
        assert entry.en == "Syrian Arab Army"  # the preferred one, though listed second
        assert entry.admitted == ("Syrian Army",)
        assert entry.variants == ("Arab Syrian Army",)
        assert entry.note == "armed forces of the Syrian government"
    assert entries["САА"].origin == f"{path}:13"


def test_weblate_polysemy_is_merged_and_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "weblate.tbx", WEBLATE)
    found = read_file(path)
    [send, repository] = found.entries
    assert (send.ru, send.en, send.admitted) == ("отправить", "upload", ("push",))
    assert send.note == "send a file to the server; git: send commits to a remote"
    assert repository.en == "repository"
    assert found.summary.merged == (
        f"{path}:7: 'отправить' → 'upload', also 'push' (lines 7, 10)",)
    assert "3 concepts, 2 entries; 1 Russian term(s) of several concepts merged" in \
        found.summary.line()
    # both renderings are correct: neither is missing, and the audit calls them consistent
    glossary = load_glossary([path], use_default=False)
    for english in ("Push the commits first.", "Upload the file."):
        [status] = glossary.check("Сначала нужно отправить изменения.", english)
        assert status.status == "ok", english
    [result] = [a for a in audit(glossary, [
        SentencePair(1, 0, 0, "Нужно отправить файл.", "The file must be uploaded."),
        SentencePair(1, 1, 0, "Нужно отправить коммит.", "You need to push the commit."),
    ]) if a.entry.ru == "отправить"]
    assert dict(result.renderings) == {"push": 1, "uploaded": 1}
    assert result.as_json()["admitted"] == ["push"]


def test_iate_several_languages_and_concepts_without_russian(tmp_path: Path) -> None:
    path = _write(tmp_path, "iate.tbx", IATE)
    found = read_file(path)
    entries = {e.ru: e for e in found.entries}
    assert set(entries) == {"прекращение огня", "перемирие"}
    ceasefire = entries["перемирие"]
    assert (ceasefire.en, ceasefire.admitted, ceasefire.variants) == (
        "ceasefire", ("cease-fire",), ("truce",))
    assert ceasefire.note == "armed forces"  # not the reliability code, not German
    assert found.summary.without_russian == 1
    assert found.summary.skipped == (f"{path}:25: 'беженец' has no English term",)
    assert found.summary.line() == (f"{path}: 3 concepts, 2 entries; 1 concept(s) skipped; "
                                    "1 concept(s) without Russian ignored")
    # a deprecated term is a variant: rewritten to the target in a sentence with the term
    english, _ = rewrite_variants("The truce held for a day.", [ceasefire])
    assert english == "The ceasefire held for a day."


@pytest.mark.parametrize("text", [TBX3_DCA, TBX3_DCT], ids=["dca", "dct"])
def test_tbx_v3_basic_in_both_styles(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "v3.tbx", text)
    entries = read_file(path).entries
    if text is TBX3_DCA:
        assert [(e.ru, e.en, e.variants) for e in entries] == [
            ("режим Асада", "the Assad regime", ("the regime of Assad",)),
            ("асадовский режим", "the Assad regime", ("the regime of Assad",))]
        assert entries[0].note == "politics; the government of Bashar al-Assad"
    else:
        [hama] = entries
        assert (hama.ru, hama.en, hama.admitted, hama.variants) == (
            "Хама", "Hama", ("Hamah",), ("Khama",))


def test_a_deprecated_term_another_concept_admits_stays_correct(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.tbx", """<martif><text><body>
<termEntry><langSet xml:lang="ru"><tig><term>отправить</term></tig></langSet>
  <langSet xml:lang="en"><tig><term>push</term></tig></langSet></termEntry>
<termEntry><langSet xml:lang="ru"><tig><term>Отправить</term></tig></langSet>
  <langSet xml:lang="en"><tig><term>upload</term></tig><tig><term>push</term>
  <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></tig><tig>
  <term>send</term><termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote>
  </tig></langSet></termEntry>
</body></text></martif>""")
    [entry] = read_file(path).entries
    assert (entry.en, entry.admitted, entry.variants) == ("push", ("upload",), ("send",))


def test_one_concept_calling_a_term_right_and_deprecated_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.tbx", """<martif><text><body><termEntry>
<langSet xml:lang="ru"><tig><term>Хама</term></tig></langSet>
<langSet xml:lang="en"><tig><term>Hama</term>
  <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></tig>
<tig><term>Hama</term>
  <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></tig>
</langSet></termEntry></body></text></martif>""")
    with pytest.raises(FormatError) as caught:
        read_file(path)
    assert str(caught.value) == (f"{path}:5: 'Hama' is deprecated here but preferred at line "
                                 "3 in the same concept; keep one of the two.")


@pytest.mark.parametrize(("langs", "missing", "has"), [
    (("en", "de", "fr"), "Russian", "de, en, fr"),
    (("ru-RU", "uk"), "English", "ru, uk"),
])
def test_a_file_without_russian_or_english_names_its_languages(
        tmp_path: Path, langs: tuple[str, ...], missing: str, has: str) -> None:
    sets = "".join(f'<langSet xml:lang="{lang}"><tig><term>t{i}</term></tig></langSet>'
                   for i, lang in enumerate(langs))
    path = _write(tmp_path, "g.tbx", f"<martif><text><body><termEntry>{sets}</termEntry>"
                                     "</body></text></martif>")
    with pytest.raises(FormatError) as caught:
        read_file(path)
    assert str(caught.value) == (f"{path}:1: no {missing} terms; the file has terms in "
                                 f"{has}, a glossary needs ru and en.")


ADJECTIVES = [("сетевой", "network"), ("основной", "main"), ("резервный", "backup"),
              ("локальный", "local"), ("удалённый", "remote"), ("временный", "temporary"),
              ("общий", "shared"), ("системный", "system"), ("пользовательский", "user"),
              ("внешний", "external"), ("внутренний", "internal"), ("новый", "new"),
              ("закрытый", "private"), ("открытый", "public"), ("главный", "master")]
NOUNS = [("модуль", "module"), ("сервер", "server"), ("файл", "file"), ("каталог", "directory"),
         ("ключ", "key"), ("журнал", "log"), ("адрес", "address"), ("порт", "port"),
         ("пакет", "package"), ("запрос", "request"), ("ответ", "response"), ("узел", "node"),
         ("канал", "channel"), ("профиль", "profile"), ("драйвер", "driver"),
         ("архив", "archive"), ("список", "list"), ("шаблон", "template"), ("тег", "tag"),
         ("токен", "token")]


def _big_termbase() -> str:
    """A 300-concept termbase as an export writes it, with the polysemy real ones have."""
    concepts = []
    for i, ((ru_adj, en_adj), (ru_noun, en_noun)) in enumerate(
            (a, n) for a in ADJECTIVES for n in NOUNS):
        concepts.append(
            f'<termEntry id="t{i}"><descrip type="subjectField">IT</descrip>'
            f'<langSet xml:lang="ru"><tig><term>{ru_adj} {ru_noun}</term></tig></langSet>'
            f'<langSet xml:lang="en"><tig><term>{en_adj} {en_noun}</term>'
            '<termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></tig>'
            '</langSet></termEntry>')
    concepts[10] = ('<termEntry id="push"><langSet xml:lang="ru"><tig><term>отправить</term>'
                    '</tig></langSet><langSet xml:lang="en"><tig><term>push</term></tig>'
                    '</langSet></termEntry>')
    concepts[200] = ('<termEntry id="upload"><langSet xml:lang="ru"><tig><term>отправить'
                     '</term></tig></langSet><langSet xml:lang="en"><tig><term>upload</term>'
                     '</tig><tig><term>send</term><termNote type="administrativeStatus">'
                     'deprecatedTerm-admn-sts</termNote></tig></langSet></termEntry>')
    body = "\n".join(concepts)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<martif type="TBX" xml:lang="en">'
            f'<text><body>\n{body}\n</body></text></martif>\n')


def test_a_300_concept_termbase_loads_whole(tmp_path: Path, runner) -> None:
    path = _write(tmp_path, "it.tbx", _big_termbase())
    glossary = load_glossary([path], use_default=False)
    assert len(glossary) == 299  # 300 concepts, two of them for the same Russian verb
    assert glossary.summaries == [f"{path}: 300 concepts, 299 entries; 1 Russian term(s) of "
                                  "several concepts merged (the first concept's target, the "
                                  "others' English admitted)"]
    [status] = glossary.check("Резервным сервером управляет администратор.",
                              "The backup server is run by an administrator.")
    assert (status.en, status.status) == ("backup server", "ok")

    result = runner.invoke(app, ["glossary", "list", "--source", str(path), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["ru"]: row for row in json.loads(result.stdout)}
    assert len(rows) == 299
    assert (rows["отправить"]["en"], rows["отправить"]["admitted"],
            rows["отправить"]["variants"]) == ("push", ["upload"], ["send"])
    assert f"{path}:13: 'отправить' → 'push', also 'upload' (lines 13, 203)" in result.stderr
    assert "300 concepts, 299 entries" in result.stderr


def test_translate_with_a_termbase_says_what_it_merged(tmp_path: Path, runner) -> None:
    path = _write(tmp_path, "weblate.tbx", WEBLATE)
    result = runner.invoke(app, ["glossary", "check", "-", "--glossary", str(path),
                                 "--no-glossary"], input="Нужно отправить файл.\n")
    assert result.exit_code == 0, result.output
    assert "0\tотправить → upload" in result.stdout
    assert "1 Russian term(s) of several concepts merged" in result.stderr


def test_an_admitted_rendering_is_not_rewritten_or_missing() -> None:
    from translate.glossary import Entry
    entry = Entry("Хама", "Hama", variants=("Khama",), admitted=("Hamah",))
    glossary = Glossary([entry])
    assert [s.status for s in glossary.check("Бои у Хамы.", "Fighting near Hamah.")] == ["ok"]
    assert [s.status for s in glossary.check("Бои у Хамы.", "Fighting near Khama.")] == [
        "missing"]
    assert Glossary([entry]).version != Glossary([Entry("Хама", "Hama", variants=("Khama",))]
                                                 ).version
