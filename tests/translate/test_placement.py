"""Where CTranslate2's glossary targets go: attention rows written by hand, so the right place
is known."""

from __future__ import annotations

from translate.engine.placement import Target, place, prefix, rendering, unglue

# "▁Fighting ▁near ▁Kh ama ▁and ▁Hom s ▁continued ." over a source of 6 pieces:
# "Бои(0) у(1) Хам(2) ы(3) и(4) Хомса(5)"
OUTPUT = ["▁Fighting", "▁near", "▁Kh", "ama", "▁and", "▁Hom", "s", "▁continued", "."]


def _attention(peaks: list[int], width: int = 6) -> list[list[float]]:
    """One row per output piece, most of its attention on the source piece given."""
    return [[0.8 if k == peak else 0.2 / (width - 1) for k in range(width)] for peak in peaks]


ATTENTION = _attention([0, 1, 2, 3, 4, 5, 5, 0, 4])
HAMA = Target((("▁H", "ama"),), source=(2, 4))
HOMS = Target((("▁Homs",),), source=(5, 6))
THE_REGIME = Target((("▁the", "▁regime"), ("▁The", "▁regime")), source=(0, 1))


def _spliced(targets: list[Target], output: list[str] = OUTPUT,
             attention: list[list[float]] = ATTENTION) -> list[str]:
    return prefix(output, targets, place(output, attention, targets))


def test_the_words_the_model_rendered_the_term_with_are_found_whole() -> None:
    assert rendering(OUTPUT, ATTENTION, (2, 4)) == (2, 4)  # "▁Kh ama"
    assert rendering(OUTPUT, ATTENTION, (5, 6)) == (5, 7)  # "▁Hom s", a whole word


def test_a_target_replaces_the_model_rendering_and_the_words_before_stay() -> None:
    # the prefix ends with the target: the model goes on from there by itself
    assert _spliced([HAMA]) == ["▁Fighting", "▁near", "▁H", "ama"]
    assert _spliced([HAMA, HOMS]) == ["▁Fighting", "▁near", "▁H", "ama", "▁and", "▁Homs"]


def test_the_order_of_the_targets_is_the_order_of_their_renderings() -> None:
    assert _spliced([HOMS, HAMA]) == _spliced([HAMA, HOMS])


def test_a_target_already_in_the_output_stays_where_it_is() -> None:
    output = ["▁Fighting", "▁near", "▁Homs", "▁and", "▁Kh", "ama", "."]
    # attention would put Homs elsewhere: its place in the output wins
    attention = _attention([0, 1, 4, 4, 2, 3, 0])
    placements = place(output, attention, [HOMS, HAMA])
    assert [(p.target, p.start, p.end) for p in placements] == [(0, 2, 3), (1, 4, 6)]
    assert prefix(output, [HOMS, HAMA], placements) == [
        "▁Fighting", "▁near", "▁Homs", "▁and", "▁H", "ama"]


def test_two_targets_rendered_in_one_place_go_one_after_the_other() -> None:
    attention = _attention([0, 1, 2, 2, 2, 2, 2, 0, 4])  # everything looks at "Хам"
    spliced = _spliced([HAMA, Target((("▁Homs",),), source=(2, 3))], attention=attention)
    assert spliced[:2] == ["▁Fighting", "▁near"]
    assert spliced.count("▁Homs") == 1 and spliced.count("ama") == 1


def test_a_lowercase_target_is_capitalised_only_at_the_start() -> None:
    at_start = _spliced([THE_REGIME])  # source piece 0 is rendered by the first word
    assert at_start == ["▁The", "▁regime"]
    later = _spliced([THE_REGIME], attention=_attention([1, 1, 2, 3, 0, 5, 5, 1, 4]))
    assert later[-2:] == ["▁the", "▁regime"] and "▁The" not in later


def test_a_place_unknown_puts_the_target_after_the_last_word() -> None:
    unknown = Target((("▁Homs",),))
    assert _spliced([unknown]) == [*OUTPUT[:-1], "▁Homs"]


def test_a_word_ending_glued_onto_a_target_is_dropped() -> None:
    pieces = ["▁near", "▁H", "ama", "s", "t", "▁and", "▁more"]
    assert unglue(pieces, 3) == ["▁near", "▁H", "ama", "▁and", "▁more"]
    assert unglue(["▁H", "ama", ",", "▁and"], 2) == ["▁H", "ama", ",", "▁and"]
