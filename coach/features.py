"""Feature recipe of the behaviour coder (numpy only; shared by training and inference).

The vector of one practitioner utterance is ``[e(utt), surface(utt, prev)]`` where ``e``
is the multilingual-e5 'query:' embedding from :func:`practice.embeddings.get_embedder`
and ``prev`` is the citizen's previous turn (used by the surface features: word overlap,
presence). Embedding ``prev`` as well ([e(utt), e(prev), e(utt)*e(prev)]) was tried and
did not improve grouped cross-validation on AnnoMI (main-4 macro-F1 0.746 vs 0.748), so
the shipped recipe leaves it out and costs one embedding per utterance.
"""

from __future__ import annotations

import re

import numpy as np

RECIPE = "e5q(utt)|surface-v1"

_Q_WORD = re.compile(
    r"^\W*(hvad|hvordan|hvorfor|hvornår|hvem|hvilke|hvilken|hvilket|hvor|fortæl|beskriv|"
    r"what|how|why|when|who|whom|which|where|tell me|describe)\b",
    re.I,
)
# Danish yes/no questions put the verb first ("Har du ...", "Er det ...", "Kan du ...").
_INVERTED = re.compile(
    r"^\W*(har|er|kan|vil|skal|må|bør|gør|går|kommer|tænker|synes|mener|ved|kender|"
    r"var|havde|kunne|ville|skulle|burde|får|fik|tror|føler|oplever|bruger|"
    r"do|does|did|is|are|was|were|have|has|had|can|could|will|would|should|shall|may|might|"
    r"am|any)\s+(du|i|det|der|han|hun|de|vi|man|jeg|den|dit|din|dine|you|it|there|he|she|"
    r"they|we|i|that|this|your|anything|anyone)\b",
    re.I,
)
_TAG_Q = re.compile(
    r"(ikke\?|ikk'?\?|right\?|isn't it\?|don't you\?|is that right\?|er det rigtigt\?|ja\?|okay\?)\s*$",
    re.I,
)
_REFLECT_START = re.compile(
    r"^\W*(så du|så det|det lyder|det lyder som|du siger|du fortæller|du oplever|du føler|"
    r"du er|du har|du vil|du tænker|det er|på den ene side|"
    r"so you|sounds like|it sounds|you're|you are|you feel|you've|you have|you want|you think|"
    r"you're saying|on the one hand|it seems)\b",
    re.I,
)
_ADVICE = re.compile(
    r"\b(du skal|du bør|du burde|du må|jeg vil foreslå|jeg vil anbefale|jeg foreslår|prøv at|"
    r"du kunne|you should|you need to|you must|i suggest|i recommend|i would suggest|try to|"
    r"you could|you might want)\b",
    re.I,
)
_TOKEN = re.compile(r"[a-zæøåäöüé]+", re.I)

SURFACE_NAMES: tuple[str, ...] = (
    "ends_q",
    "has_q",
    "n_q",
    "q_word_start",
    "inverted_start",
    "tag_question",
    "reflect_start",
    "advice_words",
    "log_len",
    "short",
    "has_prev",
    "overlap_prev",
    "first_person",
    "second_person",
)

_FIRST = {"jeg", "mig", "min", "mit", "mine", "vi", "os", "i", "me", "my", "we", "us", "our"}
_SECOND = {"du", "dig", "din", "dit", "dine", "jer", "you", "your", "yours", "yourself"}


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def surface(text: str, previous: str | None) -> np.ndarray:
    t = text.strip()
    toks = _tokens(t)
    n = max(len(toks), 1)
    prev_toks = set(_tokens(previous or ""))
    content = [w for w in toks if len(w) > 3]
    overlap = (sum(w in prev_toks for w in content) / len(content)) if content else 0.0
    return np.array(
        [
            float(t.endswith("?")),
            float("?" in t),
            min(t.count("?"), 3) / 3.0,
            float(bool(_Q_WORD.search(t))),
            float(bool(_INVERTED.search(t))),
            float(bool(_TAG_Q.search(t))),
            float(bool(_REFLECT_START.search(t))),
            float(bool(_ADVICE.search(t))),
            np.log1p(len(toks)) / 5.0,
            float(len(toks) <= 3),
            float(bool(previous and previous.strip())),
            overlap,
            sum(w in _FIRST for w in toks) / n,
            sum(w in _SECOND for w in toks) / n,
        ],
        dtype=np.float32,
    )


def build_matrix(utt_emb: np.ndarray, surf: np.ndarray) -> np.ndarray:
    """Stack the recipe's blocks; rows are utterances."""
    return np.hstack([utt_emb, surf]).astype(np.float32)


def featurise(items: list[tuple[str, str | None]]) -> np.ndarray:
    """Features of (utterance, previous citizen turn) pairs; one batched embedding call."""
    from practice.embeddings import DIM, get_embedder

    emb = get_embedder()
    texts = [t or " " for t, _ in items]
    utt = emb.query(texts) if texts else np.zeros((0, DIM), np.float32)
    surf = (
        np.vstack([surface(t, p) for t, p in items]) if items else np.zeros((0, len(SURFACE_NAMES)))
    )
    return build_matrix(utt, surf)
