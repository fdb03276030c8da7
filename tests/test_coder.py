"""Behaviour coder (coach.coder), relational flags (coach.flags) and the training recipe."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from coach import coder as coder_mod
from coach.coder import (
    FLAGS,
    LABELS,
    MAIN_CLASS,
    BehaviourCoder,
    ModelError,
    get_coder,
    load_weights,
)
from coach.flags import FLAG_NAMES, LEXICON, Lexicon, detect_flags, own_words

MODEL_DIR = Path(coder_mod.__file__).resolve().parent / "models"
EXAMPLES = Path(coder_mod.__file__).resolve().parent / "data" / "examples_da.csv"


# ------------------------------------------------------------------ shipped weights


def test_manifest_matches_npz() -> None:
    weights, manifest = load_weights(MODEL_DIR)
    npz = MODEL_DIR / "coder-v1.npz"
    assert manifest["npz_sha256"] == hashlib.sha256(npz.read_bytes()).hexdigest()
    assert tuple(manifest["labels"]) == LABELS
    assert weights["coef"].shape == (len(LABELS), manifest["n_features"])
    assert weights["mean"].shape == weights["scale"].shape == (manifest["n_features"],)
    assert np.all(weights["scale"] > 0)
    assert npz.stat().st_size < 10_000_000
    assert manifest["cv"]["annomi_macro_f1_main4"] > 0.75  # the figure training printed
    # the fused model beats each of its views in grouped cross-validation
    assert manifest["cv"]["annomi_macro_f1_main4"] > manifest["cv"]["annomi_e5_only_macro_f1_main4"]
    blocks = get_coder().tfidf_blocks
    assert [b["terms"] for b in manifest["tfidf_blocks"]] == [len(b.idf) for b in blocks]
    assert weights["tfidf_coef"].shape == (len(LABELS), sum(len(b.idf) for b in blocks))
    assert 0.0 < manifest["fusion_weight_e5"] < 1.0


def test_tampered_manifest_is_refused(tmp_path: Path) -> None:
    for name in ("coder-v1.npz", "coder-v1.json"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    man = json.loads((tmp_path / "coder-v1.json").read_text(encoding="utf-8"))
    man["labels"] = list(reversed(man["labels"]))
    (tmp_path / "coder-v1.json").write_text(json.dumps(man), encoding="utf-8")
    with pytest.raises(ModelError, match="label order"):
        BehaviourCoder(tmp_path)
    (tmp_path / "coder-v1.npz").unlink()
    with pytest.raises(ModelError, match="not found"):
        BehaviourCoder(tmp_path)


def test_npz_without_tfidf_vocabulary_is_refused(tmp_path: Path) -> None:
    shutil.copy(MODEL_DIR / "coder-v1.json", tmp_path / "coder-v1.json")
    with np.load(MODEL_DIR / "coder-v1.npz") as z:
        arrays = {k: z[k] for k in z.files if k != "tfidf_char_terms"}
    np.savez(tmp_path / "coder-v1.npz", **arrays)
    with pytest.raises(ModelError, match="TF-IDF vocabulary"):
        BehaviourCoder(tmp_path)
    arrays["tfidf_char_terms"] = np.array(["ab", "bc"])  # does not match the idf vector
    np.savez(tmp_path / "coder-v1.npz", **arrays)
    with pytest.raises(ModelError, match="TF-IDF vocabulary"):
        BehaviourCoder(tmp_path)


# ------------------------------------------------------------------ numpy TF-IDF

TFIDF_EDGE = [
    "",
    "?",
    "I",
    "ok?",
    "  Hvad  tænker\tdu\nom det?? ",
    "Æbler, østers & ål — é!",
    "a b c d e f g",
    "supercalifragilisticexpialidocious",
]


@pytest.mark.parametrize(
    ("analyzer", "ngram_range", "min_df"),
    [("word", (1, 2), 2), ("char_wb", (2, 5), 2), ("word", (1, 1), 1), ("char_wb", (1, 3), 1)],
)
def test_numpy_tfidf_equals_sklearn(
    analyzer: str, ngram_range: tuple[int, int], min_df: int
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from coach.features import WORD_TOKEN, TfidfBlock

    with EXAMPLES.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    texts = [r["text"] for r in rows] + [r["previous_citizen"] for r in rows]
    train, test = texts[::2] + TFIDF_EDGE, texts[1::2] + TFIDF_EDGE
    extra = {"token_pattern": WORD_TOKEN} if analyzer == "word" else {}
    vec = TfidfVectorizer(
        analyzer=analyzer, ngram_range=ngram_range, sublinear_tf=True, min_df=min_df, **extra
    )
    vec.fit(train)
    block = TfidfBlock(analyzer, ngram_range, dict(vec.vocabulary_), vec.idf_)
    expected = vec.transform(test).toarray()
    got = block.transform(test)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-6
    assert np.count_nonzero(expected) > len(test)  # the comparison is not between zeros
    again = TfidfBlock.from_arrays(block.to_arrays("x"), "x", analyzer, ngram_range)
    assert np.abs(again.transform(test) - expected).max() < 1e-6


def test_shipped_tfidf_blocks_match_the_recipe() -> None:
    from coach.features import TFIDF_BLOCKS, char_wb_ngrams, word_ngrams

    blocks = get_coder().tfidf_blocks
    assert [(b.analyzer, b.ngram_range) for b in blocks] == [(a, n) for _, a, n in TFIDF_BLOCKS]
    assert word_ngrams("Har du det godt?", (1, 2), blocks[0].token_pattern)[-1] == "godt ?"
    assert char_wb_ngrams("du", (2, 5)) == [" d", "du", "u ", " du", "du ", " du "]
    for b in blocks:
        assert len(b.vocabulary) == len(b.idf) > 1000
        assert np.all(b.idf >= 1.0)
        row = b.transform(["Hvad tænker du om det?"])[0]
        assert row.any()
        assert np.linalg.norm(row) == pytest.approx(1.0)


CLEAR = [
    # (text, previous citizen turn, language, expected label or main class)
    (
        "Hvordan ser en god hverdag ud for dig og drengene?",
        "Vi har det lidt svært.",
        "da",
        "open_question",
    ),
    (
        "Hvad tænker du selv om at flytte tættere på din mor?",
        "Min mor bor i Odense.",
        "da",
        "open_question",
    ),
    ("Har du været hos tandlægen i år?", "Jeg har ondt i en tand.", "da", "closed_question"),
    ("Kan du komme til et møde på fredag?", "", "da", "closed_question"),
    (
        "Det lyder som om, du er rigtig bekymret for, hvordan din datter har det.",
        "Jeg kan ikke sove, fordi jeg tænker på Emma hele tiden.",
        "da",
        "reflection",
    ),
    (
        "Du skal ringe til boligkontoret i morgen tidlig.",
        "Jeg har ikke betalt husleje.",
        "da",
        "advice",
    ),
    (
        "What would you like to get out of our meetings?",
        "I'm not sure why I'm here.",
        "en",
        "open_question",
    ),
    ("Did you go to the appointment on Monday?", "", "en", "closed_question"),
    (
        "It sounds like you're exhausted from trying to hold everything together.",
        "I'm so tired, I do everything for everyone.",
        "en",
        "reflection",
    ),
    ("I'd recommend that you call the housing office tomorrow morning.", "", "en", "advice"),
]


@pytest.mark.parametrize(("text", "prev", "lang", "expected"), CLEAR)
def test_clear_examples(text: str, prev: str, lang: str, expected: str) -> None:
    c = get_coder().code(text, prev or None, lang)
    assert c.label in LABELS
    got = c.label if expected in LABELS else c.main
    assert got == expected, (text, c.label, c.probabilities)


def test_coded_fields_and_batching(monkeypatch: pytest.MonkeyPatch) -> None:
    import practice.embeddings as emb_mod

    real = emb_mod.get_embedder()
    calls: list[int] = []

    class Counting:
        def query(self, texts: list[str] | str) -> np.ndarray:
            calls.append(1 if isinstance(texts, str) else len(texts))
            return real.query(texts)

    monkeypatch.setattr(emb_mod, "get_embedder", lambda: Counting())
    items = [(t, p or None) for t, p, _, _ in CLEAR] + [("", "hej")]
    out = get_coder().code_many(items, "da")
    assert len(calls) <= 2  # one batch for utterances, one for previous turns
    assert len(out) == len(items)
    for c in out:
        assert set(c.probabilities) == set(LABELS)
        assert abs(sum(c.probabilities.values()) - 1.0) < 1e-4
        # the label's own probability: the max, unless the main-class rule chose another label
        assert c.probabilities[c.label] == pytest.approx(c.confidence)
        assert c.confidence <= max(c.probabilities.values()) + 1e-6
        assert c.flags <= set(FLAGS)
        assert c.main == MAIN_CLASS[c.label]
    assert out[-1].label == "other"
    single = get_coder().code(items[0][0], items[0][1], "da")
    assert single.label == out[0].label
    assert single.confidence == pytest.approx(out[0].confidence, abs=1e-5)


def test_code_returns_flags_and_extra_keywords() -> None:
    c = get_coder().code("Du skal møde op, ellers bliver du trukket i ydelse.", None, "da")
    assert {"directive", "sanction"} <= c.flags
    text = "Sagen skal for Kløverudvalget."
    assert "jargon" in get_coder().code(text, None, "da", extra={"jargon": ["kløverudvalg"]}).flags
    assert "jargon" not in get_coder().code(text).flags


def test_get_coder_thread_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coder_mod, "_coder", None)
    texts = [t for t, _, _, _ in CLEAR]
    expected = [c.label for c in get_coder().code_many([(t, None) for t in texts], "da")]
    monkeypatch.setattr(coder_mod, "_coder", None)
    instances: list[BehaviourCoder] = []
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work(k: int) -> None:
        try:
            barrier.wait()
            c = get_coder()
            instances.append(c)
            order = texts[k:] + texts[:k]
            labels = [c.code(t, None, "da").label for t in order]
            results[k] = labels[len(texts) - k :] + labels[: len(texts) - k]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(i) for i in instances}) == 1
    for labels in results.values():
        assert labels == expected


# ------------------------------------------------------------------ flags

FLAG_CASES = [
    ("Hvad er vigtigst for dig lige nu?", None, "da", {"asks_what_matters"}),
    ("What matters most to you at the moment?", None, "en", {"asks_what_matters"}),
    ("Hvem i dit netværk kan du ringe til?", None, "da", {"asks_strengths"}),
    ("Hvad er du god til?", None, "da", {"asks_strengths"}),
    ("What has helped you get through hard times before?", None, "en", {"asks_strengths"}),
    ("Må jeg fortælle lidt om, hvad andre har gjort?", None, "da", {"asks_permission"}),
    ("Is it okay if I share an idea?", None, "en", {"asks_permission"}),
    ("Kaos om morgenen, ja.", "Morgenerne er det rene kaos.", "da", {"uses_own_words"}),
    (
        "The rollercoaster has been exhausting.",
        "It's been a rollercoaster.",
        "en",
        {"uses_own_words"},
    ),
    ("Vi skal lave en § 50-undersøgelse og en handleplan.", None, "da", {"jargon"}),
    ("Foranstaltningerne evalueres i målgruppen.", None, "da", {"jargon"}),
    ("Your eligibility depends on the case plan.", None, "en", {"jargon"}),
    ("Du bliver nødt til at møde op hver dag.", None, "da", {"directive"}),
    ("You need to attend every session.", None, "en", {"directive"}),
    ("Så bliver du trukket i ydelse.", None, "da", {"sanction"}),
    ("Otherwise your benefits will be stopped.", None, "en", {"sanction"}),
    ("If it happens again we will have to report it.", None, "en", {"sanction"}),
    ("Det har vi hørt før.", None, "da", {"suspicion"}),
    ("Have you really not been drinking?", None, "en", {"suspicion"}),
    ("Hun er misbruger og en svag mor.", None, "da", {"labelling"}),
    ("He is non-compliant, a difficult case.", None, "en", {"labelling"}),
    ("Din compliance har været lav.", None, "da", {"jargon"}),  # English loanword in Danish
    ("Hvordan har du det i dag?", "Jeg har det fint.", "da", set()),
    ("Dit netværk skal inddrages.", None, "da", set()),  # a statement, not asking
    ("How was your weekend?", "It was fine.", "en", set()),
]


@pytest.mark.parametrize(("text", "prev", "lang", "expected"), FLAG_CASES)
def test_flags(text: str, prev: str | None, lang: str, expected: set[str]) -> None:
    assert detect_flags(text, prev, lang) == frozenset(expected)


def test_flag_names_agree_with_coder() -> None:
    assert FLAG_NAMES == FLAGS
    assert set(LEXICON) == set(FLAGS)


def test_extra_keywords_do_not_leak() -> None:
    text = "Vi har talt med Fjordhuset om dig."
    assert detect_flags(text, None, "da") == frozenset()
    assert detect_flags(text, None, "da", extra={"jargon": ["fjordhuset"]}) == {"jargon"}
    assert detect_flags(text, None, "da") == frozenset()
    lex = Lexicon(LEXICON).extended({"labelling": ["bøvlet"]}, language="da")
    assert detect_flags("Han er bøvlet.", None, "da", lexicon=lex) == {"labelling"}
    assert detect_flags("Han er bøvlet.", None, "da") == frozenset()
    with pytest.raises(KeyError):
        detect_flags(text, None, "da", extra={"no_such_flag": ["x"]})


def test_own_words_ignores_function_words() -> None:
    assert own_words("Hvad har du gjort?", "Jeg har ikke gjort noget.") == set()
    assert "rollercoaster" in own_words("A rollercoaster?", "Life is a rollercoaster.")


# ------------------------------------------------------------------ data and training


def test_examples_file() -> None:
    with EXAMPLES.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    assert set(rows[0]) == {"text", "previous_citizen", "label", "language"}
    langs = Counter(r["language"] for r in rows)
    assert langs["da"] >= 150
    assert langs["en"] >= 5
    assert {r["label"] for r in rows} == set(LABELS)
    assert len({r["text"] for r in rows}) == len(rows)


@pytest.mark.slow
def test_training_recipe_runs_on_a_subset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from coach import train_coder

    if not train_coder.ANNOMI.exists():
        pytest.skip("AnnoMI training file not present")

    def fake_embed(self: train_coder.EmbeddingCache, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, t in enumerate(texts):  # deterministic pseudo-embedding of the text
            seed = int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)
            v = np.random.default_rng(seed).standard_normal(384)
            out[i] = v / np.linalg.norm(v)
        return out

    monkeypatch.setattr(train_coder.EmbeddingCache, "embed", fake_embed)
    manifest = train_coder.train(limit=120, out_dir=tmp_path, do_cv=True, cache_dir=None, folds=2)
    assert manifest["n_train"]["annomi"] == 120
    assert 0.0 <= manifest["cv"]["annomi_macro_f1_main4"] <= 1.0
    loaded = BehaviourCoder(tmp_path)
    assert loaded.manifest["npz_sha256"] == manifest["npz_sha256"]
    assert loaded.weights["coef"].shape[0] == len(LABELS)


def test_annomi_loading_deduplicates() -> None:
    from coach.train_coder import ANNOMI, load_annomi

    if not ANNOMI.exists():
        pytest.skip("AnnoMI training file not present")
    ds = load_annomi()
    with ANNOMI.open(newline="", encoding="utf-8") as fh:
        raw = [r for r in csv.DictReader(fh) if r["interlocutor"] == "therapist"]
    unique = {(r["transcript_id"], r["utterance_id"]) for r in raw}
    assert len(raw) > len(unique) + 1000  # the file repeats rows per annotator
    assert len(unique) - 5 <= len(ds) <= len(unique)  # one row per utterance
    assert set(ds.labels) == set(LABELS)
    assert set(ds.mi_quality) == {"high", "low"}


@pytest.mark.parametrize(
    ("text", "language", "directive"),
    [
        ("Du skal ikke fortælle det hele forfra – jeg har læst det.", "da", False),
        ("Du behøver ikke svare nu.", "da", False),
        ("Du skal ikke bekymre dig, men du skal møde op mandag.", "da", True),
        ("You don't have to tell it all again.", "en", False),
        ("You have to attend on Monday.", "en", True),
    ],
)
def test_relieving_a_demand_is_not_a_directive(text: str, language: str, directive: bool) -> None:
    from coach.flags import detect_flags

    assert ("directive" in detect_flags(text, None, language)) is directive
