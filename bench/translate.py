"""Translation speed: ways to translate the same document, measured side by side in one run.

    python -m bench.translate                       # beams 1 and 4, 320 sentences, a few minutes
    python -m bench.translate --json speed.json     # also write every figure as JSON
    python -m bench.translate --beams 4 --sentences 500 --naive-sample 30

Real weights cannot be downloaded here, so the model has the shape of Helsinki-NLP/opus-mt-ru-en
(62518-token vocabulary, d_model 512, 6+6 layers, 8 heads, FFN 2048, swish, sinusoidal positions,
tied embeddings) with random weights; its sentencepiece models are trained on the generated
text. A random model does not know when to stop, so every engine decodes exactly
`--output-tokens` tokens per sentence (transformers: `min_new_tokens = max_new_tokens`;
CTranslate2: `min_decoding_length = max_decoding_length`; `ruen translate`: the hidden
`--bench-output-tokens`): the work per sentence is the same for every engine, as it would be for
a real model producing the same translations.

The document is generated Russian news text: sentence lengths drawn from a log-normal
distribution (median 14 words, a long tail past 40), with numbers, quotes, dashes and commas,
in paragraphs of 2 to 6 sentences. It has no glossary terms: a random-weight model never
produces the glossary's English, so every term would send its sentence to constrained decoding,
which says nothing about the speed with a real model (the glossary is still loaded and matched
against every sentence).

The engines, each in a fresh subprocess (so that peak RSS is its own):
1. naive: transformers `generate` one sentence at a time, fp32 (what most scripts do); timed
   on the first `--naive-sample` sentences only, and reported per sentence;
2. transformers batched (32 sentences, length-sorted), fp32; 3. the same with int8 dynamic
   quantisation; 4. raw CTranslate2 `translate_batch` int8 (32 per batch, tokenization
   included); 4b. the same raw calls, but batched and threaded as `ruen` does it (two
   translations side by side on half the threads each, batches cut to its memory budget), so
   that 5 against 4b is the cost of the pipeline alone; 5. `ruen translate` end to end with
   its defaults (segmentation, glossary, QA checks, archive writes; model load included), run
   in-process through its CLI.
6a/6b. `ruen translate` on a second document, the same text with one or two glossary terms in
every third sentence, without and with the default glossary: with random weights every term is
enforced (the worst case), and the output is checked (every term placed, no target without its
term); 7. `ruen translate --backend transformers --no-glossary`; 8. the same with the glossary
on the document with terms. `--engines` runs a subset.
Then the translation-memory re-run (the same command on the same archive again) and the cold
start (a new `ruen` process: imports, model load, one sentence; the converted model cached).
The run goes through every engine `--repeat` times (default 3), round after round, and keeps
each engine's best time: on a shared machine other jobs only ever slow a run down, and taking
the rounds in turn (rather than one engine's runs back to back) gives every engine the same
chances of a quiet spell. Peak RSS is the highest of an engine's rounds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ENGINES = ("naive", "batched", "int8", "ct2", "ct2-ruen", "ruen", "terms-off", "terms",
           "tf-ruen", "tf-terms")
LABELS = {
    "naive": "1. transformers, one sentence at a time, fp32",
    "batched": "2. transformers, batched, fp32",
    "int8": "3. transformers, batched, int8",
    "ct2": "4. CTranslate2 translate_batch, int8",
    "ct2-ruen": "4b. the same with ruen's batches and threads",
    "ruen": "5. ruen translate (end to end, defaults)",
    "terms-off": "6a. ruen translate --no-glossary, the document with terms",
    "terms": "6b. ruen translate, the document with terms (every term enforced)",
    "tf-ruen": "7. ruen translate --backend transformers --no-glossary",
    "tf-terms": "8. ruen translate --backend transformers, the document with terms",
}
# `ruen translate` runs: (backend, glossary, the document with terms)
RUEN_RUNS = {"ruen": ("auto", True, False), "terms-off": ("auto", False, True),
             "terms": ("auto", True, True), "tf-ruen": ("transformers", False, False),
             "tf-terms": ("transformers", True, True)}
BATCH = 32
OUTPUT_TOKENS = 40
MODEL_VERSION = "opus-mt-ru-en-shape-2"  # bump when the generated model or text changes
TARGETS = {"naive": 15.0, "batched": 3.5}  # ruen at beam 4 must be this many times faster
MAX_OVERHEAD = 0.10  # over raw CTranslate2
MAX_RSS_MB = 400
MIN_TM_SPEEDUP = 50.0
MAX_COLD_START_S = 2.0
MAX_GLOSSARY_SLOWDOWN = 1.5  # CTranslate2, every term enforced, against --no-glossary
MIN_TRANSFORMERS_SPEEDUP = 3.0  # ruen --backend transformers over the naive loop
MAX_TRANSFORMERS_RSS_MB = 1500
# Russian terms of the default glossary, in the case forms news text uses; one or two go into
# every third sentence of the document with terms.
TERMS_RU = ("в Хаме", "из Дамаска", "Командование военных операций", "силами ЮОЦ",
            "режима Асада", "в провинции Хомс", "бойцы Хезболлы", "к Алеппо", "в Идлибе",
            "Сирийской арабской армии", "под Растаном", "в Дараа")

# ---------------------------------------------------------------- the generated document


def _words(text: str) -> list[str]:
    return text.split()


RU_WORDS = _words("""
власти заявили сообщили подтвердили отметили сообщает говорится стало известно
военные бойцы подразделения отряды силы части войска солдаты офицеры командиры
жители беженцы семьи дети врачи журналисты наблюдатели представители чиновники
город города городе деревня деревни район района районе провинция провинции области
севере юге западе востоке окраине центре границе трассе дороге мосту аэропорту
утром вечером ночью днем накануне сегодня вчера позже ранее затем после перед
новые новых тяжелые тяжелых ожесточенные местные местных военных гражданских
бои боев столкновения обстрел обстрелы удары удар атака атаки наступление отступление
контроль контролем позиции позиций здание здания больница больницы школа школы
гуманитарной помощи помощь продовольствие вода воды электричество связь связи
переговоры переговоров соглашение соглашения перемирие перемирия условия условиях
правительство правительства министр министра министерство совет совета комиссия
население населения число числа данные данным оценкам источник источники источников
около более менее почти уже еще также однако поэтому кроме того несмотря на это
был была было были будет будут может могут должны продолжают продолжается началось
взяли заняли покинули вошли направили доставили эвакуировали открыли закрыли восстановили
полностью частично окончательно временно быстро медленно вновь снова впервые официально
важный важного крупный крупного главный главного старый старого новый нового большой
человек человека людей жителей погибших раненых пострадавших задержанных пропавших
дом дома домов улица улицы улиц площадь площади рынок рынка мечеть мечети церковь
""")
RU_SHORT = _words("в на с по к от для из о у за при под над без через между")


def _sentence(rng: random.Random) -> str:
    # Log-normal word counts: median 14, a long tail (news sentences run past 40 words).
    count = max(3, min(70, round(math.exp(rng.gauss(math.log(14), 0.55)))))
    words: list[str] = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.18:
            words.append(rng.choice(RU_SHORT))
        elif roll < 0.22:
            words.append(str(rng.choice([rng.randrange(2, 100), rng.randrange(100, 5000)])))
        elif roll < 0.24 and i < count - 2:
            words.append(f"«{rng.choice(RU_WORDS)}»")
        else:
            words.append(rng.choice(RU_WORDS))
        if i < count - 1 and rng.random() < 0.07:
            words[-1] += ","
        elif 2 < i < count - 2 and rng.random() < 0.02:
            words.append("—")
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + "."


def generate_document(sentences: int, seed: int = 7) -> str:
    """Russian news-like text of exactly `sentences` sentences, in paragraphs."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    left = sentences
    while left:
        size = min(left, rng.randint(2, 6))
        paragraphs.append(" ".join(_sentence(rng) for _ in range(size)))
        left -= size
    return "\n\n".join(paragraphs) + "\n"


def generate_term_document(sentences: int, seed: int = 7) -> str:
    """`generate_document`, with one or two glossary terms in every third sentence."""
    rng = random.Random(seed + 1)
    paragraphs = []
    count = 0
    for paragraph in generate_document(sentences, seed).split("\n\n"):
        out = []
        for sentence in _split_sentences(paragraph):
            if count % 3 == 0:
                words = sentence.split()
                for term in rng.sample(TERMS_RU, rng.choice([1, 1, 2])):
                    words.insert(rng.randrange(1, max(2, len(words) - 1)), term)
                sentence = " ".join(words)
            out.append(sentence)
            count += 1
        paragraphs.append(" ".join(out))
    return "\n\n".join(paragraphs) + "\n"


def _split_sentences(paragraph: str) -> list[str]:
    return [s + "." for s in paragraph.strip().rstrip(".").split(". ")]


EN_WORDS = _words("""the a of to in and on for from with by at after before forces city town village
province north south east west officials said reported confirmed fighting clashes attack
strikes offensive retreat control positions building hospital school aid water power talks
agreement ceasefire government minister council people residents killed wounded displaced
houses street square market new heavy local military civilian more than about also however
was were will be could should continue began took entered left sent opened closed restored
fully partly again first officially important large main old""")


def _english(rng: random.Random) -> str:
    count = max(3, min(70, round(math.exp(rng.gauss(math.log(16), 0.55)))))
    words = [rng.choice(EN_WORDS) for _ in range(count)]
    return " ".join(words).capitalize() + "."


def prepare(workdir: Path, sentences: int) -> tuple[Path, Path]:
    """The document and the opus-mt-shaped random model, built once per workdir and size (the
    document with terms is the document's name with `-terms`)."""
    from translate.testing import OPUS_MT_RU_EN, build_marian

    workdir.mkdir(parents=True, exist_ok=True)
    doc = workdir / f"document-{sentences}.ru.txt"
    if not doc.is_file():
        doc.write_text(generate_document(sentences), encoding="utf-8")
    terms = _terms_document(doc)
    if not terms.is_file():
        terms.write_text(generate_term_document(sentences), encoding="utf-8")
    model = workdir / MODEL_VERSION
    if not (model / "config.json").is_file():
        rng = random.Random(11)
        source = generate_document(4000, seed=3).split(". ")
        # The glossary's English too, so that its vocabulary can spell every target.
        from translate.glossary import load_glossary

        target = [_english(rng) for _ in range(4000)] + 10 * sorted(
            {e.en for e in load_glossary(use_default=True).entries})
        build_marian(model, source, target, spm_vocab=700, vocab_size=62518, num_beams=4,
                     **OPUS_MT_RU_EN)
    return doc, model


# ---------------------------------------------------------------- the engines (one per process)


def _peak_rss_mb() -> float:
    """This process's peak resident memory. `getrusage` would report the parent's peak when it
    was higher (Linux keeps it across fork and exec), so the kernel's high-water mark first."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _transformers(model_dir: Path, threads: int, int8: bool = False) -> tuple[Any, Any, Any]:
    import torch
    import transformers
    from transformers import MarianMTModel, MarianTokenizer

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(threads)
    tokenizer = MarianTokenizer.from_pretrained(model_dir)
    model = MarianMTModel.from_pretrained(model_dir).eval()
    if int8:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                           dtype=torch.qint8)
    return torch, tokenizer, model


# Each baseline loads its model, then returns the function that is timed: translating a list
# of sentences with fixed-length outputs. Model loading is not timed for them.
Translate = Callable[[Sequence[str]], list[str]]


def load_naive(model_dir: Path, beam: int, threads: int, output_tokens: int) -> Translate:
    torch, tokenizer, model = _transformers(model_dir, threads)

    def translate(sentences: Sequence[str]) -> list[str]:
        english = []
        with torch.inference_mode():
            for sentence in sentences:
                inputs = tokenizer([sentence], return_tensors="pt")
                out = model.generate(**inputs, num_beams=beam, max_length=None,
                                     min_new_tokens=output_tokens + 1,
                                     max_new_tokens=output_tokens + 1)
                english += tokenizer.batch_decode(out, skip_special_tokens=True)
        return english

    return translate


def load_batched(model_dir: Path, beam: int, threads: int, output_tokens: int,
                 int8: bool = False) -> Translate:
    torch, tokenizer, model = _transformers(model_dir, threads, int8=int8)

    def translate(sentences: Sequence[str]) -> list[str]:
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        english = [""] * len(sentences)
        with torch.inference_mode():
            for start in range(0, len(order), BATCH):
                batch = order[start:start + BATCH]
                inputs = tokenizer([sentences[i] for i in batch], return_tensors="pt",
                                   padding=True)
                out = model.generate(**inputs, num_beams=beam, max_length=None,
                                     min_new_tokens=output_tokens + 1,
                                     max_new_tokens=output_tokens + 1)
                for i, text in zip(batch, tokenizer.batch_decode(out, skip_special_tokens=True),
                                   strict=True):
                    english[i] = text
        return english

    return translate


def load_ct2(model_dir: Path, beam: int, threads: int, output_tokens: int) -> Translate:
    """CTranslate2 as its documentation shows it: MarianTokenizer pieces in, pieces out."""
    import ctranslate2
    import transformers
    from transformers import MarianTokenizer

    from translate.engine.cache import ensure_converted
    from translate.model import resolve_model

    transformers.utils.logging.set_verbosity_error()
    path = ensure_converted(resolve_model(str(model_dir)), "int8").path
    tokenizer = MarianTokenizer.from_pretrained(model_dir)
    translator = ctranslate2.Translator(str(path), device="cpu", compute_type="int8",
                                        intra_threads=threads)

    def translate(sentences: Sequence[str]) -> list[str]:
        source = [tokenizer.convert_ids_to_tokens(ids)
                  for ids in tokenizer(list(sentences)).input_ids]
        results = translator.translate_batch(source, max_batch_size=BATCH, beam_size=beam,
                                             min_decoding_length=output_tokens,
                                             max_decoding_length=output_tokens)
        return [tokenizer.convert_tokens_to_string(r.hypotheses[0]) for r in results]

    return translate


def load_ct2_like_ruen(model_dir: Path, beam: int, threads: int, output_tokens: int
                       ) -> Translate:
    """Raw CTranslate2 calls with `ruen`'s batch plan and thread split, and nothing else."""
    import ctranslate2
    import transformers
    from transformers import MarianTokenizer

    from translate.engine.cache import ensure_converted
    from translate.engine.ctranslate2 import DECODE_MEMORY_MB, SIDE_BY_SIDE, CTranslate2Engine
    from translate.model import resolve_model

    transformers.utils.logging.set_verbosity_error()
    path = ensure_converted(resolve_model(str(model_dir)), "int8").path
    tokenizer = MarianTokenizer.from_pretrained(model_dir)
    workers = SIDE_BY_SIDE if threads >= SIDE_BY_SIDE else 1
    translator = ctranslate2.Translator(str(path), device="cpu", compute_type="int8",
                                        inter_threads=workers, intra_threads=threads // workers)
    lengths = {"min_decoding_length": output_tokens, "max_decoding_length": output_tokens}

    def translate(sentences: Sequence[str]) -> list[str]:
        source = [tokenizer.convert_ids_to_tokens(ids)
                  for ids in tokenizer(list(sentences)).input_ids]
        chunks = CTranslate2Engine._chunks(source, beam, lengths, DECODE_MEMORY_MB / workers)
        pending = [translator.translate_batch([source[i] for i in chunk], beam_size=beam,
                                              asynchronous=True, **lengths) for chunk in chunks]
        english = [""] * len(sentences)
        for chunk, results in zip(chunks, pending, strict=True):
            for i, result in zip(chunk, results, strict=True):
                english[i] = tokenizer.convert_tokens_to_string(result.result().hypotheses[0])
        return english

    return translate


def _terms_document(doc: Path) -> Path:
    return doc.with_name(doc.name.replace(".ru.txt", "-terms.ru.txt"))


def _ruen_args(doc: Path, model_dir: Path, db: Path, beam: int, output_tokens: int,
               threads: int, backend: str = "auto", glossary: bool = True,
               output: str = os.devnull) -> list[str]:
    return ["translate", str(doc), "--model", str(model_dir), "--db", str(db), "--beam",
            str(beam), "--threads", str(threads), "--bench-output-tokens", str(output_tokens),
            "--backend", backend, *([] if glossary else ["--no-glossary"]),
            "--format", "jsonl", "--output", output]


def run_ruen(doc: Path, model_dir: Path, db: Path, beam: int, threads: int,
             output_tokens: int, backend: str = "auto", glossary: bool = True,
             output: str = os.devnull) -> None:
    from translate.cli import app

    try:
        app(_ruen_args(doc, model_dir, db, beam, output_tokens, threads, backend, glossary,
                       output), standalone_mode=False)
    except SystemExit as exit:
        if exit.code:
            raise


def enforcement(output: Path, db: Path) -> dict[str, int]:
    """From `ruen translate --format jsonl` output and its archive: terms found, terms whose
    target is in the English, terms missing because their sentence's enforced output was
    rejected (it scored far below the unconstrained one), and targets in the English without
    their source term."""
    from corpus.store import Archive
    from translate.glossary import load_glossary
    from translate.glossary.verify import contains

    archive = Archive(db)
    try:
        rejected = {(doc.id, entry.index) for doc in archive.documents()
                    for entry in archive.history(doc.id) if entry.kind == "mt, constrained"}
    finally:
        archive.close()
    targets = {e.en for e in load_glossary().entries}
    counts = dict.fromkeys(("terms", "placed", "rejected", "stray_targets"), 0)
    for line in output.read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        expected = {t["en"] for t in pair["terms"]}
        for term in pair["terms"]:
            counts["terms"] += 1
            if contains(pair["en"], term["en"]):
                counts["placed"] += 1
            elif (pair["doc"], pair["index"]) in rejected:
                counts["rejected"] += 1
        counts["stray_targets"] += sum(1 for t in targets - expected if contains(pair["en"], t))
    return counts


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """One engine in this process: time it, report seconds, sentences and peak RSS."""
    from translate.segment import segment

    doc = Path(args.doc)
    sentences = [s.ru for s in segment(doc.read_text(encoding="utf-8"))]
    model_dir = Path(args.model)
    report: dict[str, Any] = {"engine": args.worker, "beam": args.beam}
    if args.worker in RUEN_RUNS:
        import translate.cli  # imports are start-up, timed in the cold start, not here

        backend, glossary, with_terms = RUEN_RUNS[args.worker]
        if with_terms:
            doc = _terms_document(doc)
        work = Path(tempfile.mkdtemp())
        db = work / "bench.db"  # a new, empty archive
        output = work / "out.jsonl"
        start = time.perf_counter()
        run_ruen(doc, model_dir, db, args.beam, args.threads, args.output_tokens, backend,
                 glossary, str(output))
        report["seconds"] = time.perf_counter() - start
        report["sentences"] = len(segment(doc.read_text(encoding="utf-8")))
        if glossary:
            report["enforcement"] = enforcement(output, db)
        if args.worker == "ruen":
            start = time.perf_counter()  # again, on the same archive: translation memory
            run_ruen(doc, model_dir, db, args.beam, args.threads, args.output_tokens)
            report["tm_seconds"] = time.perf_counter() - start
    else:
        options = (model_dir, args.beam, args.threads, args.output_tokens)
        translate = {"naive": lambda: load_naive(*options),
                     "batched": lambda: load_batched(*options),
                     "int8": lambda: load_batched(*options, int8=True),
                     "ct2": lambda: load_ct2(*options),
                     "ct2-ruen": lambda: load_ct2_like_ruen(*options)}[args.worker]()
        if args.worker == "naive":
            sentences = sentences[:args.naive_sample]
        start = time.perf_counter()
        english = translate(sentences)
        report["seconds"] = time.perf_counter() - start
        report["sentences"] = len(english)
    report["peak_rss_mb"] = _peak_rss_mb()
    return report


# ---------------------------------------------------------------- the run


def _spawn(args: argparse.Namespace, engine: str, beam: int, doc: Path, model: Path
           ) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.translate", "--worker", engine, "--beam", str(beam),
               "--doc", str(doc), "--model", str(model), "--threads", str(args.threads),
               "--output-tokens", str(args.output_tokens), "--naive-sample",
               str(args.naive_sample)]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(args), check=False)
    if done.returncode:
        sys.exit(f"{engine} (beam {beam}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _env(args: argparse.Namespace) -> dict[str, str]:
    return {**os.environ, "RUEN_CACHE": str(Path(args.workdir) / "cache"),
            "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def cold_start(args: argparse.Namespace, model: Path) -> dict[str, float]:
    """A new `ruen` process translating one sentence (converted model already cached)."""
    work = Path(tempfile.mkdtemp())
    one = work / "one.ru.txt"
    one.write_text("Власти сообщили о новых столкновениях на севере провинции.\n",
                   encoding="utf-8")
    code = ("import time; t0 = time.perf_counter(); import translate.cli as c; "
            "t1 = time.perf_counter(); c.app(%r, standalone_mode=False); "
            "t2 = time.perf_counter(); print(t1 - t0, t2 - t1)")
    argv = ["translate", str(one), "--model", str(model), "--no-archive", "--threads",
            str(args.threads), "--output", os.devnull]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code % argv], capture_output=True, text=True,
                          env=_env(args), check=True)
    total = time.perf_counter() - start
    imports, load_and_first = (float(x) for x in done.stdout.split())
    return {"process_seconds": total, "imports_seconds": imports,
            "load_and_first_sentence_seconds": load_and_first}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from translate.engine.cache import ensure_converted
    from translate.model import resolve_model
    from translate.segment import segment

    doc, model = prepare(Path(args.workdir), args.sentences)
    os.environ["RUEN_CACHE"] = str(Path(args.workdir) / "cache")
    ensure_converted(resolve_model(str(model)), "int8")  # conversion is not part of any timing
    sentences = [s.ru for s in segment(doc.read_text(encoding="utf-8"))]
    source_tokens = _source_tokens(model, sentences)
    results: dict[str, Any] = {
        "machine": {"threads": args.threads, "cpu": _cpu_name(), "cpus": os.cpu_count()},
        "document": {"sentences": len(sentences), "words": sum(len(s.split()) for s in sentences),
                     "source_tokens_mean": sum(source_tokens) / len(source_tokens),
                     "source_tokens_max": max(source_tokens)},
        "output_tokens": args.output_tokens, "batch": BATCH, "naive_sample": args.naive_sample,
        "repeat": args.repeat,
        "beams": {},
    }
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for turn in range(1, args.repeat + 1):
        for beam in args.beams:
            for engine in args.engines:
                print(f"round {turn}/{args.repeat}, beam {beam}: {LABELS[engine]}…",
                      file=sys.stderr, flush=True)
                runs.setdefault((beam, engine), []).append(
                    _spawn(args, engine, beam, doc, model))
    for beam in args.beams:
        rows = {engine: _best(runs[beam, engine]) for engine in args.engines}
        for row in rows.values():
            row["sentences_per_s"] = row["sentences"] / row["seconds"]
            row["tokens_per_s"] = row["sentences_per_s"] * args.output_tokens
        if "ruen" in rows:
            ruen = rows["ruen"]["sentences_per_s"]
            for row in rows.values():
                row["ruen_speedup"] = ruen / row["sentences_per_s"]
            rows["ruen"]["tm_speedup"] = rows["ruen"]["seconds"] / rows["ruen"]["tm_seconds"]
        for engine in {"terms", "tf-terms"} & set(rows):
            rows[engine]["enforcement"]["placed_share"] = _placed(rows[engine])
        results["beams"][str(beam)] = rows
    print("cold start…", file=sys.stderr, flush=True)
    results["cold_start"] = cold_start(args, model)
    results["targets"] = _targets(results)
    return results


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """An engine's rounds as one row: the fastest times, the highest peak RSS."""
    best = dict(min(runs, key=lambda run: run["seconds"]))
    best["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    best["rounds_seconds"] = [run["seconds"] for run in runs]
    if "tm_seconds" in best:
        best["tm_seconds"] = min(run["tm_seconds"] for run in runs)
    return best


def _source_tokens(model: Path, sentences: Sequence[str]) -> list[int]:
    from translate.engine.ctranslate2 import MarianPieces

    return [len(p) for p in MarianPieces(model).encode(sentences)]


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of the issue with the measured value and whether it is met (those whose
    engines were run)."""
    beams = results["beams"]
    beam = "4" if "4" in beams else max(beams, key=int)
    top = beams[beam]

    def speed(engine: str) -> float:
        return float(top[engine]["sentences_per_s"])

    def rss(engine: str) -> float:
        return max(float(rows[engine]["peak_rss_mb"]) for rows in beams.values())

    checks: dict[str, tuple[Callable[[], float], str, Callable[[float], bool]]] = {
        f"ruen / naive (beam {beam})": (lambda: speed("ruen") / speed("naive"),
                                        f">= {TARGETS['naive']}x",
                                        lambda v: v >= TARGETS["naive"]),
        f"ruen / batched fp32 (beam {beam})": (lambda: speed("ruen") / speed("batched"),
                                               f">= {TARGETS['batched']}x",
                                               lambda v: v >= TARGETS["batched"]),
        f"ruen overhead over raw CTranslate2, 32 per batch (beam {beam})": (
            lambda: speed("ct2") / speed("ruen") - 1, f"<= {MAX_OVERHEAD:.0%}",
            lambda v: v <= MAX_OVERHEAD),
        f"ruen overhead over raw CTranslate2 with its batches and threads (beam {beam})": (
            lambda: speed("ct2-ruen") / speed("ruen") - 1, f"<= {MAX_OVERHEAD:.0%}",
            lambda v: v <= MAX_OVERHEAD),
        "ruen peak RSS (MB)": (lambda: rss("ruen"), f"<= {MAX_RSS_MB}",
                               lambda v: v <= MAX_RSS_MB),
        # with the default beam (4, as in opus-mt-ru-en's configuration)
        f"translation memory re-run speed-up (beam {beam})": (
            lambda: top["ruen"]["tm_speedup"], f">= {MIN_TM_SPEEDUP}x",
            lambda v: v >= MIN_TM_SPEEDUP),
        "cold start: load + first sentence (s)": (
            lambda: results["cold_start"]["load_and_first_sentence_seconds"],
            f"< {MAX_COLD_START_S}", lambda v: v < MAX_COLD_START_S),
        f"CTranslate2, every term enforced / --no-glossary, time (beam {beam})": (
            lambda: top["terms"]["seconds"] / top["terms-off"]["seconds"],
            f"<= {MAX_GLOSSARY_SLOWDOWN}x", lambda v: v <= MAX_GLOSSARY_SLOWDOWN),
        "CTranslate2, every term enforced, peak RSS (MB)": (
            lambda: rss("terms"), f"<= {MAX_RSS_MB}", lambda v: v <= MAX_RSS_MB),
        f"ruen --backend transformers / naive (beam {beam})": (
            lambda: speed("tf-ruen") / speed("naive"), f">= {MIN_TRANSFORMERS_SPEEDUP}x",
            lambda v: v >= MIN_TRANSFORMERS_SPEEDUP),
        "ruen --backend transformers, peak RSS (MB)": (
            lambda: rss("tf-ruen"), f"<= {MAX_TRANSFORMERS_RSS_MB}",
            lambda v: v <= MAX_TRANSFORMERS_RSS_MB),
        **{f"{LABELS[engine][:2]} terms placed, or rejected as far worse (of those found)": (
            lambda engine=engine: min(_placed(rows[engine]) for rows in beams.values()),
            "100%", lambda v: v == 1.0) for engine in ("terms", "tf-terms")},
    }
    measured = {}
    for name, (value, target, test) in checks.items():
        try:
            v = value()
        except KeyError:  # an engine it needs was not run (--engines)
            continue
        measured[name] = {"value": v, "target": target, "met": bool(test(v))}
    return measured


def _placed(row: dict[str, Any]) -> float:
    """Share of terms whose target is in the English or whose enforced sentence was rejected
    as far worse than the model's own (never worse); 0 if any target has no source term."""
    counts = row["enforcement"]
    if counts["stray_targets"]:
        return 0.0
    return (counts["placed"] + counts["rejected"]) / max(1, counts["terms"])


def print_table(results: dict[str, Any]) -> None:
    doc = results["document"]
    print(f"{doc['sentences']} sentences ({doc['words']} words, {doc['source_tokens_mean']:.0f} "
          f"source tokens on average, longest {doc['source_tokens_max']}), "
          f"{results['output_tokens']} output tokens each; {results['machine']['threads']} "
          f"threads on {results['machine']['cpu']}; best of {results['repeat']} rounds "
          f"(the naive loop: over the first {results['naive_sample']} sentences)")
    print()
    print("| beam | engine | sentences/s | tokens/s | peak RSS MB | ruen × faster |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for beam, rows in results["beams"].items():
        for engine, row in rows.items():
            note = f" (first {row['sentences']})" if engine == "naive" else ""
            speedup = ("" if engine in RUEN_RUNS or "ruen_speedup" not in row
                       else f"{row['ruen_speedup']:.1f}×")
            print(f"| {beam} | {LABELS[engine]}{note} | {row['sentences_per_s']:.2f} | "
                  f"{row['tokens_per_s']:.0f} | {row['peak_rss_mb']:.0f} | {speedup} |")
    print()
    for beam, rows in results["beams"].items():
        if "ruen" not in rows:
            continue
        ruen = rows["ruen"]
        print(f"beam {beam}: translation memory re-run {ruen['tm_seconds']:.2f} s vs "
              f"{ruen['seconds']:.1f} s first run ({ruen['tm_speedup']:.0f}× faster)")
    cold = results["cold_start"]
    print(f"cold start: load + first sentence {cold['load_and_first_sentence_seconds']:.2f} s "
          f"(+ {cold['imports_seconds']:.2f} s imports; new process in total "
          f"{cold['process_seconds']:.2f} s)")
    print()
    for name, target in results["targets"].items():
        value = target["value"]
        shown = f"{value:.1%}" if "overhead" in name or "placed" in name else f"{value:.2f}"
        state = "met" if target["met"] else "MISSED"
        print(f"{state:>6}  {name}: {shown} (target {target['target']})")


def main(argv: Sequence[str] | None = None) -> None:
    from translate.engine.ctranslate2 import default_threads

    parser = argparse.ArgumentParser(prog="python -m bench.translate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--sentences", type=int, default=320, help="document size")
    parser.add_argument("--beams", type=lambda s: [int(b) for b in s.split(",")],
                        default=[1, 4], help="comma-separated beam sizes [1,4]")
    parser.add_argument("--naive-sample", type=int, default=16,
                        help="sentences timed for the naive loop (it is slow)")
    parser.add_argument("--output-tokens", type=int, default=OUTPUT_TOKENS)
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds through all engines; each engine's best time is kept: "
                             "other jobs on the machine only ever slow a run down")
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--engines", type=lambda s: [e for e in ENGINES if e in s.split(",")],
                        default=list(ENGINES),
                        help=f"comma-separated subset of {','.join(ENGINES)} [all]")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "ruen-bench"),
                        help="model, document and converted model are kept here for re-runs")
    # Internal: one engine in a subprocess.
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--beam", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--doc", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return
    results = run(args)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
