"""The web app: routes that parse a request, call the library (corpus.review, corpus.search,
the glossary audit, the archive's eval runs) and render a page or the same data as JSON."""


import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from corpus import review
from corpus.db import is_url
from corpus.errors import ArchiveError, EditConflict, QueryError
from corpus.lemma import english_lemma_text, lemma_text
from corpus.pool import ArchivePool
from corpus.search import LANGS, Hit, search
from corpus.store import Archive
from translate.glossary.audit import EntryAudit, audit
from translate.glossary.core import Glossary
from web.render import highlighted, marked, marks_json, term_marks, terms_of
from web.security import CSRF_HEADER, Guard, csrf_ok

HERE = Path(__file__).parent
SEARCH_PER_PAGE = 20
MAX_EDIT_CHARS = 10_000


@dataclass
class ServeSettings:
    """What `ruen serve` was told: the archive, who edits, whether edits are allowed, the
    access token (None: none needed), and the glossary in effect."""

    db: str | Path  # what --db gave: a file (or, with another backend, a server's URL)
    editor: str
    read_only: bool = False
    token: str | None = None
    glossary: Glossary = field(default_factory=lambda: Glossary([]))
    hosts: tuple[str, ...] = ()  # the Host names answered (empty: any); see web.security.Guard
    # each reviewer's own access token → their name, stored with their post-edits
    reviewers: dict[str, str] = field(default_factory=dict)

    @property
    def tokens(self) -> dict[str, str | None]:
        """Every access token with the reviewer it names (None: the server's --editor)."""
        return {**({self.token: None} if self.token is not None else {}), **self.reviewers}


class EditRequest(BaseModel):
    en: str = Field(max_length=MAX_EDIT_CHARS, description="The corrected English.")
    version: int | None = Field(
        None, description="The `version` of the sentence as it was opened; a save on a "
                          "translation changed since is refused with 409 and both texts.")


class Problem(Exception):
    """A request that cannot be served: its status and a message for a person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _plain(archive_path: str | Path, error: Exception) -> str:
    """A library message without the archive's path (the browser need not see it)."""
    return str(error).removeprefix(f"{archive_path}: ")


class AuditCache:
    """The glossary audit of the current translations (`ruen glossary audit`), made again only
    when a translation was added, not on every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._results: list[EntryAudit] = []

    def get(self, archive: Archive, glossary: Glossary) -> list[EntryAudit]:
        # translations are only ever added (a post-edit too): the newest id says it all,
        # without counting a million rows
        key = tuple(archive.db.execute("SELECT max(id) FROM translations").fetchone())
        with self._lock:
            if key != self._key:
                # only the sentences holding a form of some term: the index finds them
                forms = [form for entry in glossary.entries for form in glossary.forms(entry)]
                self._results = audit(glossary, review.sentences_with_forms(archive, forms),
                                      where=True)
                self._key = key
            return self._results


class SitesCache:
    """The sites documents come from (for the filters' menus): read again only when documents
    were added (reading them is a scan of every document, 25 ms on 20,000)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._sites: list[str] = []

    def get(self, archive: Archive) -> list[str]:
        key = tuple(archive.db.execute("SELECT max(id) FROM documents").fetchone())
        with self._lock:
            if key != self._key:
                self._sites, self._key = review.sites(archive), key
            return self._sites


def create_app(settings: ServeSettings) -> FastAPI:
    # serving a file that is not there does not create it (a server URL is not a file)
    if not is_url(settings.db) and not Path(settings.db).exists():
        raise ArchiveError(f"{settings.db}: no archive here; translate something into it first.")
    pool = ArchivePool(settings.db, readonly=settings.read_only)
    # the lemmatisers' dictionaries load now, not in a reviewer's first search (about 1 s)
    lemma_text("Хама освобождена")
    english_lemma_text("Hama was freed")
    # autoescape everything: archive text is never markup
    templates = Jinja2Templates(env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True))
    templates.env.globals.update(highlighted=highlighted, marked=marked, terms_of=terms_of,
                                 term_marks=term_marks, read_only=settings.read_only,
                                 editor=settings.editor)
    audits = AuditCache()
    sites = SitesCache()

    def error_page(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/api":
            return JSONResponse({"error": message}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message,
                                    "csrf": request.scope.get("state", {}).get("csrf", "")},
            status_code=status)

    app = FastAPI(title="ruen", summary="Review a ruen archive: documents, sentences, search, "
                  "glossary audit, quality; post-edits.", docs_url=None, redoc_url=None,
                  version="1")
    app.state.pool = pool
    app.router.on_shutdown.append(pool.close)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(Guard, tokens=settings.tokens, error_page=error_page,
                       hosts=settings.hosts)

    # ------------------------------------------------------------ errors

    @app.exception_handler(Problem)
    async def problem(request: Request, exc: Problem) -> Response:
        return error_page(request, exc.status, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        messages = {404: f"Nothing here: {request.url.path}.",
                    405: f"{request.method} is not allowed on {request.url.path}."}
        response = error_page(request, exc.status_code,
                              messages.get(exc.status_code, str(exc.detail)))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body"))
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            return error_page(request, 404, f"Nothing here: {request.url.path}.")
        return error_page(request, 400, "Bad request: " + "; ".join(problems))

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError) -> Response:
        return error_page(request, 400, str(exc))

    @app.exception_handler(ArchiveError)
    async def archive_error(request: Request, exc: ArchiveError) -> Response:
        message = _plain(settings.db, exc)
        missing = "no document" in message or "has no sentence" in message
        return error_page(request, 404 if missing else 503, message)

    # ------------------------------------------------------------ shared pieces

    def archive() -> Iterator[Archive]:
        with pool.archive() as opened:
            yield opened

    Db = Annotated[Archive, Depends(archive)]

    def sentence_json(sentence: review.ReviewSentence) -> dict[str, Any]:
        return {**sentence.as_json(), **marks_json(sentence)}

    def editor_of(request: Request) -> str:
        """Who makes this request's post-edits: the reviewer whose token it carries, else the
        server's --editor."""
        return request.scope.get("state", {}).get("reviewer") or settings.editor

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return templates.TemplateResponse(
            request, name, {"csrf": request.state.csrf, "query": dict(request.query_params),
                            "editor": editor_of(request), **context}, status_code=status)

    def url_with(request: Request, **changes: Any) -> str:
        """This page's address with some parameters changed (the next page), repeated ones
        (`doc=1&doc=2`) kept."""
        params = [(k, v) for k, v in request.query_params.multi_items()
                  if k not in changes and v]
        params += [(k, v) for k, v in changes.items() if v]
        return f"{request.url.path}?{urlencode(params)}"

    templates.env.globals["url_with"] = url_with

    def blank(value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    # ------------------------------------------------------------ documents

    def documents_page(db: Archive, site: str | None, since: str | None, until: str | None,
                       system: str | None, errors: bool, sort: str, page_number: int
                       ) -> review.DocumentPage:
        return review.list_documents(db, site=blank(site), since=blank(since),
                                     until=blank(until), system=blank(system), errors=errors,
                                     sort=sort, page=page_number)  # type: ignore[arg-type]

    SortQuery = Annotated[str, Query(pattern="^(added|published|title)$",
                                     description="added | published | title")]
    PageQuery = Annotated[int, Query(ge=1, le=1_000_000)]

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/documents", status_code=302)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:  # browsers ask for it whatever the page says
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    @app.get("/api/documents", tags=["documents"])
    def api_documents(db: Db, site: str | None = None, since: str | None = None,
                      until: str | None = None, system: str | None = None,
                      errors: bool = False, sort: SortQuery = "added", page: PageQuery = 1
                      ) -> dict[str, Any]:
        """Documents with their review state, filtered, sorted and paged (50 a page)."""
        found = documents_page(db, site, since, until, system, errors, sort, page)
        return {"documents": [d.as_json() for d in found.documents], "total": found.total,
                "page": found.page, "pages": found.pages, "per_page": found.per_page}

    @app.get("/documents", include_in_schema=False)
    def documents(request: Request, db: Db, site: str | None = None, since: str | None = None,
                  until: str | None = None, system: str | None = None,
                  errors: bool = False, sort: SortQuery = "added", page_number: Annotated[
                      int, Query(alias="page", ge=1, le=1_000_000)] = 1) -> Response:
        found = documents_page(db, site, since, until, system, errors, sort, page_number)
        return page(request, "documents.html", found=found, sites=sites.get(db),
                    systems=review.systems(db), title="Documents")

    def document_data(db: Archive, doc_id: int) -> tuple[Any, list[review.ReviewSentence]]:
        document = db.document(doc_id)
        return document, review.document_sentences(db, doc_id)

    @app.get("/api/documents/{doc_id}", tags=["documents"])
    def api_document(db: Db, doc_id: int) -> dict[str, Any]:
        """A document's sentences with their current translations, glossary terms, QA flags,
        confidence and `version` (for saving a post-edit)."""
        document, sentences = document_data(db, doc_id)
        return {"id": doc_id, "title": document.title, "metadata": document.metadata,
                "sentences": [sentence_json(s) for s in sentences]}

    @app.get("/documents/{doc_id}", include_in_schema=False)
    def document(request: Request, db: Db, doc_id: int) -> Response:
        document, sentences = document_data(db, doc_id)
        return page(request, "document.html", document=document, sentences=sentences,
                    doc_id=doc_id, title=document.title)

    @app.get("/api/documents/{doc_id}/sentences/{index}", tags=["documents"])
    def api_sentence(db: Db, doc_id: int, index: int) -> dict[str, Any]:
        """One sentence as the document gives it."""
        return sentence_json(review.sentence(db, doc_id, index))

    @app.get("/api/documents/{doc_id}/sentences/{index}/history", tags=["documents"])
    def api_history(db: Db, doc_id: int, index: int) -> dict[str, Any]:
        """Every stored translation of a sentence, oldest first, with its editor."""
        entries = review.sentence_history(db, doc_id, index)
        return {"doc": doc_id, "index": index,
                "history": [{"id": e.id, "kind": e.kind, "en": e.en, "created": e.created,
                             "editor": e.editor, "system": e.system, "current": e.current,
                             "origin": e.origin, "source": e.source, "score": e.score}
                            for e in entries]}

    if not settings.read_only:
        @app.post("/api/documents/{doc_id}/sentences/{index}", tags=["documents"],
                  responses={409: {"description": "Changed since it was opened: nothing "
                                                  "stored; `theirs` and `yours`."},
                             403: {"description": f"No or wrong {CSRF_HEADER} header."}})
        def api_edit(request: Request, db: Db, doc_id: int, index: int, edit: EditRequest
                     ) -> Response:
            """Store a post-edit (as `ruen edit` does, credited to the reviewer whose token the
            request carries, else to the server's editor); header
            X-CSRF-Token: the page's `<meta name="csrf-token">` (or `GET /api/session`)."""
            if not csrf_ok(request):
                raise Problem(403, f"Missing or wrong {CSRF_HEADER}: reload the page.")
            en = edit.en.strip()
            if not en:
                raise Problem(400, "The translation is empty; nothing stored.")
            db.segment_id(doc_id, index)  # 404 for a sentence that is not there
            try:
                stored = db.post_edit(doc_id, index, en, editor=editor_of(request),
                                      version=edit.version)
            except EditConflict as conflict:
                return JSONResponse(
                    {"error": "This sentence was changed since you opened it; nothing "
                              "stored. Both texts are here: keep one, or merge them and save "
                              "again.",
                     "theirs": conflict.theirs, "yours": conflict.yours,
                     "version": conflict.version}, status_code=409)
            now = review.sentence(db, doc_id, index)
            return JSONResponse({"stored": stored, "version": now.version, "en": now.en,
                                 "editor": editor_of(request),
                                 "sentence": sentence_json(now)})

    @app.get("/api/session", tags=["session"])
    def api_session(request: Request) -> dict[str, Any]:
        """The CSRF token to send as X-CSRF-Token (with the `ruen_csrf` cookie set here),
        the editor's name and whether edits are allowed."""
        return {"csrf_token": request.state.csrf, "editor": editor_of(request),
                "read_only": settings.read_only}

    # ------------------------------------------------------------ search

    def run_search(db: Archive, q: str, lang: str, exact: bool, doc: list[int],
                   since: str | None, until: str | None, site: str | None,
                   system: str | None, page_number: int) -> tuple[list[Hit], bool]:
        for doc_id in doc:
            db.document(doc_id)  # a document that is not there is a mistake, not "no hits"
        hits = search(db, q, lang=lang, exact=exact, docs=doc, since=blank(since),
                      until=blank(until), site=blank(site), system=blank(system),
                      limit=SEARCH_PER_PAGE + 1,
                      offset=(page_number - 1) * SEARCH_PER_PAGE)
        return hits[:SEARCH_PER_PAGE], len(hits) > SEARCH_PER_PAGE

    LangQuery = Annotated[str, Query(pattern=f"^({'|'.join(LANGS)})$",
                                     description="both | ru | en")]
    DocQuery = Annotated[list[int], Query(description="Only these documents (repeatable).")]

    @app.get("/api/search", tags=["search"])
    def api_search(db: Db, q: Annotated[str, Query(min_length=1, max_length=1000)],
                   lang: LangQuery = "both", exact: bool = False, doc: DocQuery = [],  # noqa: B006
                   since: str | None = None, until: str | None = None,
                   site: str | None = None, system: str | None = None, page: PageQuery = 1
                   ) -> dict[str, Any]:
        """`ruen search`: the query language, options and hits (20 a page) with highlight
        spans on both sides."""
        hits, more = run_search(db, q, lang, exact, doc, since, until, site, system, page)
        return {"query": q, "page": page, "more": more, "hits": [h.as_json() for h in hits]}

    @app.get("/search", include_in_schema=False)
    def search_page(request: Request, db: Db,
                    q: Annotated[str, Query(max_length=1000)] = "", lang: LangQuery = "both",
                    exact: bool = False, doc: DocQuery = [],  # noqa: B006
                    since: str | None = None, until: str | None = None,
                    site: str | None = None, system: str | None = None, page_number: Annotated[
                        int, Query(alias="page", ge=1, le=1_000_000)] = 1) -> Response:
        hits: list[Hit] = []
        more, error = False, ""
        if q.strip():
            try:
                hits, more = run_search(db, q, lang, exact, doc, since, until, site, system,
                                        page_number)
            except QueryError as exc:
                error = str(exc)
        return page(request, "search.html", status=400 if error else 200, hits=hits,
                    more=more, error=error, q=q, lang=lang, exact=exact, page_number=page_number,
                    sites=sites.get(db), systems=review.systems(db),
                    title=f"Search: {q}" if q else "Search")

    # ------------------------------------------------------------ glossary

    def entries_json() -> list[dict[str, Any]]:
        return [{"ru": e.ru, "en": e.en, "admitted": list(e.admitted), "note": e.note,
                 "variants": list(e.variants), "origin": e.origin}
                for e in settings.glossary.entries]

    @app.get("/api/glossary", tags=["glossary"])
    def api_glossary() -> dict[str, Any]:
        """The glossary entries in effect (`ruen glossary list`)."""
        return {"version": settings.glossary.version, "sources": settings.glossary.sources,
                "entries": entries_json()}

    @app.get("/api/glossary/audit", tags=["glossary"])
    def api_audit(db: Db, all_entries: Annotated[bool, Query(alias="all")] = False
                  ) -> dict[str, Any]:
        """`ruen glossary audit`: each term's renderings across the archive, with counts."""
        results = audits.get(db, settings.glossary)
        return {"audit": [r.as_json() for r in results if all_entries or r.sentences]}

    @app.get("/glossary", include_in_schema=False)
    def glossary_page(request: Request, db: Db) -> Response:
        results = [r for r in audits.get(db, settings.glossary) if r.sentences]
        return page(request, "glossary.html", glossary=settings.glossary, audit=results,
                    title="Glossary")

    def rendering_sentences(db: Archive, ru: str, en: str, page_number: int
                            ) -> tuple[list[review.ReviewSentence], int]:
        for result in audits.get(db, settings.glossary):
            if result.entry.ru == ru:
                where = result.where.get(en, [])
                break
        else:
            raise Problem(404, f"No glossary entry {ru!r}.")
        chosen = where[(page_number - 1) * 50:page_number * 50]
        by_doc: dict[int, list[int]] = {}
        for doc_id, index in chosen:
            if doc_id is not None:
                by_doc.setdefault(doc_id, []).append(index)
        found = {(s.doc, s.index): s for doc_id, indexes in by_doc.items()
                 for s in review.document_sentences(db, doc_id, indexes)}
        return [found[k] for k in chosen if k in found], len(where)

    @app.get("/api/glossary/sentences", tags=["glossary"])
    def api_rendering(db: Db, ru: str, en: str, page: PageQuery = 1) -> dict[str, Any]:
        """The sentences where the audit found glossary term `ru` rendered as `en`."""
        sentences, total = rendering_sentences(db, ru, en, page)
        return {"ru": ru, "en": en, "total": total, "page": page,
                "sentences": [s.as_json() for s in sentences]}

    @app.get("/glossary/sentences", include_in_schema=False)
    def rendering_page(request: Request, db: Db, ru: str, en: str,
                       page_number: Annotated[int, Query(alias="page", ge=1)] = 1
                       ) -> Response:
        sentences, total = rendering_sentences(db, ru, en, page_number)
        return page(request, "rendering.html", ru=ru, en=en, sentences=sentences, total=total,
                    page_number=page_number, title=f"{ru} → {en}")

    # ------------------------------------------------------------ quality

    def quality_data(db: Archive) -> dict[str, Any]:
        return {"runs": db.eval_runs(), "summary": review.quality_summary(db),
                "lowest": review.lowest_confidence(db, 20)}

    @app.get("/api/quality", tags=["quality"])
    def api_quality(db: Db) -> dict[str, Any]:
        """Stored eval runs (`ruen eval runs`), the stored QA flags of the current translations
        by check, and the 20 sentences of lowest model confidence."""
        data = quality_data(db)
        return {"runs": [{"id": r.id, "created": r.created, "signature": r.signature,
                          "hypothesis": r.scores.get("hypothesis"),
                          "sentences": r.scores.get("sentences"),
                          "scores": {s["name"]: s["score"] for s in r.scores.get("scores", [])}}
                         for r in data["runs"]],
                "qa": [c.__dict__ for c in data["summary"].checks],
                "translations": data["summary"].translations,
                "lowest_confidence": [s.as_json() for s in data["lowest"]]}

    @app.get("/quality", include_in_schema=False)
    def quality_page(request: Request, db: Db) -> Response:
        return page(request, "quality.html", title="Quality", **quality_data(db))

    return app
