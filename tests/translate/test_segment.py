"""Sentence segmentation, razdel-style: each case is a string with `|` at the expected sentence
boundaries. A failing case prints both segmentations marked the same way, side by side."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translate.segment import MAX_JOINED_CHARS, enclosures, explain, segment


def parse(case: str) -> tuple[str, str]:
    """The text of a case (bars removed) and its expected segmentation, normalised."""
    parts = case.split("|")
    return "".join(parts), " | ".join(p.strip() for p in parts if p.strip())


def marked(text: str) -> str:
    return " | ".join(s.ru for s in segment(text))


def check(case: str) -> None:
    text, expected = parse(case)
    assert marked(text) == expected


# razdel's own splits that must stand: ordinary sentence ends.
SENTENCE_ENDS = [
    "Город Хама освобожден. | Силы режима отступают.",
    "Кто это сделал? | Никто не знает! | Расследование идет…",
    "Перечислили всё: ЕС, НАТО и т.д. | Потом начались переговоры.",
    "До города осталось 10 км. | Мы пошли дальше.",
    "Потери составили 5 млн. | Это много.",  # a counting word before a capital: a real end
    "Он сказал: «Мы победим». | Они ушли.",
    "Об этом сообщил В. Путин. | Потом он уехал.",
    "«Мы победим!» | Они ушли.",
]

# razdel's own joins that must stay joined (the abbreviations the issue names).
ABBREVIATIONS = [
    "Это важно, т.е. очень важно. | Дальше.",
    "Это важно, т. е. Дамаск падет. | Дальше.",
    "Яблоки, груши и т.д. и т.п. продаются везде. | Дальше.",
    "Он родился в 1990 г. в Москве. | Потом вырос.",
    "Это было в 2024 г. Асад бежал из Дамаска.",
    "В 2011-2024 гг. в Сирии шла война. | Она закончилась.",
    "До города 10 км. и мы идем дальше.",
    "Он живет на ул. Ленина. | Это центр.",
    "Театр им. Пушкина открыт.",
    "Согласно ст. 205 УК РФ. | Далее.",
    "Он переплыл р. Евфрат ночью.",
    "Цена 100 р. за штуку.",
    "Потери составили 5 млн. руб. за год.",
    "Бюджет 5 млрд. долларов на 2025 г. утвердили.",
    "Собрали 5 тыс. подписей.",
    "Собрали 5 тыс. человек, т.е. весь город.",
    "А. С. Пушкин написал поэму.",
    "В.В. Путин заявил о победе.",
    "Дж. Байден и Б. Асад не встречались.",
    "В регионе, в т.ч. в Хомсе, холодно.",
    "Это т.н. оппозиция.",
    "См. табл. 5 и рис. 3.",
]

# Our abbreviation rule: razdel splits after these.
OUR_ABBREVIATIONS = [
    "Прибыл ген. Иванов. | Он выступил.",
    "Прибыл ген.-лейт. Иванов.",
    "Выступил подполк. Абдуль Гани.",
    "В пров. Хомс идут бои. | Режим отступает.",
    "Бои идут в Вост. Гуте и на Бл. Востоке.",
    "Граница Сев. Кореи и Юж. Кореи закрыта.",
    "Выступил доц. Петров из мкр. Южный.",
    "Данные приведены в табл. 5 ниже.",
    "В 2011-2024 гг. Сирия пережила войну. | Она закончилась.",
    "В XIX-XX вв. Россия росла.",
    # Ordinary words that look like abbreviations still end sentences.
    "Прибыл третий полк. | Затем начался штурм.",
    "Начался второй тур. | Кандидаты готовы.",
]

# Quotations and brackets: one segment with the sentence that introduces them.
QUOTATIONS = [
    "Он подтвердил освобождение города, заявив: «Город Хама полностью освобожден. Хомс ждет "
    "прибытия наших войск». | Затем он ушел.",
    "«Мы победим. Точно», — сказал он. | Все замолчали.",
    "Он заявил: „Остатки режима рушатся. Мы движемся вперёд“. | Конец.",
    'Он заявил: "Остатки режима рушатся. Мы движемся вперёд". | Конец.',
    "Он сказал: «Мы идем на Хомс. Затем — на Дамаск! Кто нас остановит?» | Никто не ответил.",
    "Силы ЮОЦ (по данным ООН. Эти цифры не проверены.) заняли город. | Конец.",
    # Nested quotation marks.
    "Он заявил: «Операция „Сдерживание агрессии“ продолжается. Мы идем». | Конец.",
    # A quotation that never closes joins nothing.
    "Он заявил: «Мы идем. | Мы не остановимся. | Конец.",
    # Quotation marks of single-sentence quotes do not glue sentences together.
    "Это «тактический манёвр». | Так сказал министр. | Он назвал это «знакомой тактикой».",
]


@pytest.mark.parametrize("case", SENTENCE_ENDS)
def test_sentence_ends_split(case: str) -> None:
    check(case)


@pytest.mark.parametrize("case", ABBREVIATIONS)
def test_no_break_after_known_abbreviations(case: str) -> None:
    check(case)


@pytest.mark.parametrize("case", OUR_ABBREVIATIONS)
def test_no_break_after_news_abbreviations(case: str) -> None:
    check(case)


@pytest.mark.parametrize("case", QUOTATIONS)
def test_quotations_stay_whole(case: str) -> None:
    check(case)


def test_a_very_long_quotation_is_split_at_its_sentences() -> None:
    sentence = "Мы продолжаем двигаться на юг, к Дамаску, и никто не остановит наше наступление. "
    quote = sentence * (MAX_JOINED_CHARS // len(sentence) + 1)
    text = f"Он заявил: «{quote.strip()}» Конец."
    sentences = [s.ru for s in segment(text)]
    assert len(sentences) > 3
    assert all(len(s) <= len(sentence) + 15 for s in sentences)


def test_paragraphs_and_offsets() -> None:
    text = "Первый абзац. Второе предложение.\n\nВторой абзац,\nперенесенный по строкам.\n"
    segments = segment(text)
    assert [(s.index, s.paragraph) for s in segments] == [(0, 0), (1, 0), (2, 1)]
    assert all(text[s.start:s.end] == s.ru for s in segments)
    assert segments[2].ru == "Второй абзац,\nперенесенный по строкам."


def test_without_blank_lines_every_line_is_a_paragraph() -> None:
    text = "Первая строка. Еще одна.\nВторая строка\nТретья строка."
    assert [(s.paragraph, s.ru) for s in segment(text)] == [
        (0, "Первая строка."), (0, "Еще одна."), (1, "Вторая строка"), (2, "Третья строка.")]


@pytest.mark.parametrize("text", [
    "https://example.com/news/2024/12/05/hama.html",
    "12 345 678 910.5 3.14",
    "Счет 2:1. | Игра окончена.",
])
def test_urls_and_numbers_are_not_split_inside(text: str) -> None:
    check(text)


@pytest.mark.parametrize(("text", "pairs"), [
    ("«а» и «б»", [(0, 2), (6, 8)]),
    ("«а „б“ в»", [(0, 8), (3, 5)]),
    ('"а" и "б"', [(0, 2), (6, 8)]),
    ("(а [б] в)", [(0, 8), (3, 5)]),
    ("«а (б» в)", [(0, 5)]),       # the bracket inside never closed before the quotation did
    ("«а и б", []),                # never closed
    ("5\" дюймов", []),            # a straight quote after a digit opens nothing
])
def test_enclosures(text: str, pairs: list[tuple[int, int]]) -> None:
    assert enclosures(text) == sorted(pairs)


def test_explain_names_the_rule_behind_each_decision() -> None:
    text = "Он сказал: «Мы победим. Точно». Прибыл ген. Иванов, т.е. А. С. Пушкин. Конец."
    decisions = {d.position: (d.action, d.rule) for d in explain(text)}

    def after(mark: str) -> tuple[str, str]:
        return decisions[text.index(mark) + len(mark)]

    assert after("победим.") == ("join", "inside_quotation")
    assert after("Точно».") == ("split", "razdel")
    assert after("ген.") == ("join", "abbreviation_before_name")
    assert after("т.е.") == ("join", "razdel.sokr_left")
    assert after("Пушкин.") == ("split", "razdel")
    assert all("|" in d.context for d in explain(text))
    # Every decision's place is a real offset in the text, and splits match segment().
    splits = [d.position for d in explain(text) if d.action == "split"]
    assert splits == [s.end for s in segment(text)][:-1]


# Text drawn from what Russian news is made of: letters, digits, sentence marks, abbreviations'
# periods, quotation marks, brackets, dashes, spaces and newlines.
ALPHABET = "абвгдежзиклмнопрстуфхцчшщыьэюяАБВГДЕЖЗИКЛМНОПРСТУХЦЧШЭЮЯabcXYZ0123456789"
PUNCTUATION = ".,;:!?…«»„“”\"'()[]—–- "
TEXTS = st.text(alphabet=st.sampled_from(ALPHABET + PUNCTUATION + "\n\t"), max_size=300)
TOKENS = st.lists(st.sampled_from(
    ["Город", "Хама", "освобожден", "т.е.", "г.", "ген.", "А.", "С.", "«", "»", "(", ")", '"',
     ".", "!", "?", "…", ",", "—", "\n", "\n\n", " ", "  ", "5", "млн.", "пров.", "ул."]),
    max_size=80).map(" ".join)


def _check_cover(text: str) -> None:
    segments = segment(text)
    position = 0
    for expected_index, s in enumerate(segments):
        assert s.index == expected_index
        assert position <= s.start < s.end  # monotonic, non-overlapping, never empty
        assert text[s.start:s.end] == s.ru
        assert text[position:s.start].strip() == ""  # only whitespace between sentences
        assert s.ru == s.ru.strip()
        position = s.end
    assert text[position:].strip() == ""
    # Concatenating sentences with the original whitespace between them gives back the text.
    rebuilt = "".join(text[prev:s.start] + s.ru for prev, s in zip(
        [0, *(x.end for x in segments)], segments, strict=False))
    assert rebuilt + text[position:] == text
    paragraphs = [s.paragraph for s in segments]
    assert paragraphs == sorted(paragraphs)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_sentences_cover_any_text_exactly(text: str) -> None:
    _check_cover(text)


@settings(max_examples=300, deadline=None)
@given(TOKENS)
def test_sentences_cover_news_like_text_exactly(text: str) -> None:
    _check_cover(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_sentences_cover_arbitrary_unicode(text: str) -> None:
    _check_cover(text)


@settings(max_examples=200, deadline=None)
@given(TOKENS)
def test_explain_agrees_with_segment(text: str) -> None:
    segments = segment(text)
    inner_ends = [s.end for s, after in pairwise(segments)
                  if s.paragraph == after.paragraph]
    decisions = explain(text)
    assert [d.position for d in decisions if d.action == "split"] == inner_ends
    positions = [d.position for d in decisions]
    assert positions == sorted(set(positions))  # one decision per place, in text order


def test_the_debug_command_prints_each_decision_and_sentence(tmp_path, capsys) -> None:
    from translate.segment import main

    source = tmp_path / "a.txt"
    source.write_bytes("Прибыл ген. Иванов. Он ушел.".encode("cp1251"))
    main([str(source)])
    out = capsys.readouterr().out
    assert "join  abbreviation_before_name   Прибыл ген.| Иванов." in out
    assert "[0:0] Прибыл ген. Иванов.\n[0:1] Он ушел." in out

    source.write_bytes(b"")
    with pytest.raises(SystemExit) as exited:
        main([str(source)])
    assert exited.value.code == 2
    assert "a.txt: empty file" in capsys.readouterr().err
