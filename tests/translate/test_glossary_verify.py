"""Is a target in a translation: whole words, quote marks and punctuation ignored."""

from __future__ import annotations

import pytest

from translate.glossary.verify import contains

OPERATION = "Operation Deterrence of Aggression"


@pytest.mark.parametrize(("english", "target", "found"), [
    # quotes and punctuation around or inside a target do not count
    ('They launched Operation "Deterrence of Aggression."', OPERATION, True),
    ("They launched Operation «Deterrence of Aggression».", OPERATION, True),
    ("the so-called “Operation Deterrence of Aggression”, which", OPERATION, True),
    ("Operation ‘Deterrence of Aggression’ began.", OPERATION, True),
    ("They launched Operation Deterrence of Aggression.", 'Operation "Deterrence of Aggression"',
     True),
    # but the words must be there, in order, whole
    ("Operation Deterrence, and Aggression", OPERATION, False),
    ("Operation of Deterrence Aggression", OPERATION, False),
    ("Fighting near Hamas.", "Hama", False),
    ("Fighting near Hama's gates.", "Hama", True),
    ('Fighting near "Hama".', "Hama", True),
    # a lowercase target may open the sentence capitalised; elsewhere case counts
    ('"The Assad regime" fell.', "the Assad regime", True),
    ("They fought the assad regime.", "the Assad regime", False),
    ("the Military Operations Command (MOC) said", "MOC", True),
    ("the MOCs", "MOC", False),
])
def test_contains(english: str, target: str, found: bool) -> None:
    assert contains(english, target) is found
