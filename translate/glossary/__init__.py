"""The glossary: one English name for each Russian name, in every case form.

`load_glossary` layers the shipped default glossary, the user's and any files given;
`Glossary.match` finds terms in Russian text, `Glossary.enforce` makes the translation carry
their targets (in decoding, see `translate.engine.constrained`) and `Glossary.check` reports
what became of each term.
"""

from translate.glossary.core import Glossary, load_glossary
from translate.glossary.entries import Entry, TermMatch
from translate.glossary.load import DEFAULT_GLOSSARY, read_entries, user_glossary_path

__all__ = ["DEFAULT_GLOSSARY", "Entry", "Glossary", "TermMatch", "load_glossary",
           "read_entries", "user_glossary_path"]
