"""The library queries behind `ruen serve` (corpus.review) agree with the commands' own ways of
reading the archive: the glossary audit over the index's candidates is `ruen glossary audit`'s,
a document's rows are `ruen show`'s pairs, and the counts are what is stored."""

from __future__ import annotations

from corpus import review
from corpus.store import Archive
from translate.glossary.audit import audit
from translate.glossary.core import Glossary, load_glossary
from translate.glossary.entries import Entry


def _glossaries() -> list[Glossary]:
    return [Glossary([Entry(ru="Хама", en="Hama", variants=("Khama",)),
                      Entry(ru="Хомс", en="Homs"), Entry(ru="Министр обороны",
                                                         en="defence minister")]),
            load_glossary([], use_default=True)]


def test_the_audit_of_the_candidates_is_the_audit_of_everything(news) -> None:
    with Archive(news.path) as archive:
        archive.post_edit(news.hama, 5, "Fighters entered Khama from the north.")
        for glossary in _glossaries():
            forms = [f for e in glossary.entries for f in glossary.forms(e)]
            candidates = review.sentences_with_forms(archive, forms)
            everything = audit(glossary, archive.pairs(fallback_reference=True))
            fast = audit(glossary, candidates, where=True)
            assert [(a.entry, a.sentences, a.renderings) for a in fast] == \
                [(a.entry, a.sentences, a.renderings) for a in everything]
        small = _glossaries()[0]
        hama = audit(small, review.sentences_with_forms(archive, small.forms(
            small.entries[0])), where=True)[0]
        assert hama.entry.ru == "Хама"
        assert hama.where == {"Khama": [(news.hama, 1), (news.hama, 5)]}


def test_document_rows_are_the_pairs_ruen_show_prints(news) -> None:
    with Archive(news.path) as archive:
        archive.post_edit(news.hama, 2, "Thousands of residents left the city in 3 days.",
                          editor="vera")
        rows = review.document_sentences(archive, news.hama)
        pairs = list(archive.pairs(news.hama, fallback_reference=True))
        assert [(r.index, r.ru, r.en, r.kind, r.score) for r in rows] == \
            [(p.index, p.ru, p.en, p.kind, p.score) for p in pairs]
        assert [r.flags for r in rows if r.kind == "mt"] == \
            [p.flags for p in pairs if p.kind == "mt"]
        edited = rows[2]
        assert (edited.editor, edited.flags, edited.terms_inherited) == ("vera", (), False)
        assert rows[1].terms[0].status == "missing" and not rows[1].terms_inherited
        assert [r.version for r in rows] == [archive.current_version(news.hama, i)
                                            for i in range(6)]


def test_counts_of_the_document_list(news) -> None:
    with Archive(news.path) as archive:
        archive.post_edit(news.hama, 1, "The city of Hama has been completely liberated.")
        found = review.list_documents(archive, site="vestnik-vostoka.example")
        [hama] = found.documents
        # the post-edit carries no flags: the error went with the machine translation
        assert (hama.sentences, hama.post_edited, hama.errors, hama.warnings) == (6, 1, 0, 1)
        assert round(hama.share_post_edited, 3) == 0.167
        assert review.list_documents(archive, errors=True).total == 0
        summary = review.quality_summary(archive)
        assert [(c.check, c.severity, c.count) for c in summary.checks] == [
            ("numbers", "warning", 1)]
