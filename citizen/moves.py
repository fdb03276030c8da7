"""Turn classification: what kind of practitioner moves a turn contains.

A practitioner turn is read from three sources, and the strongest evidence per kind wins:

1. the behaviour coder (``coach.coder.get_coder()``): its label (open question,
   reflection) and its relational flags;
2. the scenario's own cues (``scenario.triggers`` / ``scenario.openers``), matched on
   word stems, case-insensitive;
3. built-in Danish/English cue lists for every kind of move, so the engine works even
   where the coder has no flag (rushing, case talk, transparency, validation).

Everything here is deterministic and cheap (no embeddings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from citizen.schema import Opener, Scenario, Trigger

TRIGGER_KINDS: tuple[str, ...] = tuple(t.value for t in Trigger)
OPENER_KINDS: tuple[str, ...] = tuple(o.value for o in Opener)
MAX_STRENGTH = 3.0

_TOKEN = re.compile(r"[a-zæøåäöüé0-9]+", re.IGNORECASE)
_CUE_TOKEN = re.compile(r"[a-zæøåäöüé0-9]+\*?", re.IGNORECASE)
_SUFFIXES = ("erne", "ende", "ene", "ede", "ing", "er", "en", "et", "es", "ed", "e", "s")
# inflectional endings a cue word may carry in the text (Danish and English); anything
# longer (compounds: "caseworker", "sagsbehandler") needs an explicit stem ("case*")
INFLECTIONS: tuple[str, ...] = (
    "erne", "ende", "ings", "ene", "ede", "ens", "ers", "ets", "ing", "er", "en", "et",
    "es", "ed", "ne", "te", "de", "e", "s", "t", "r", "n", "d",
)  # fmt: skip
_INFL = "(?:" + "|".join(INFLECTIONS) + ")"


def tokens(text: str) -> list[str]:
    return [w.lower() for w in _TOKEN.findall(text)]


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A light, language-agnostic stem: strip one common Danish/English suffix,
    keeping at least four letters."""
    w = word.lower()
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            return w[: -len(suf)]
    return w


@lru_cache(maxsize=8192)
def _word_regex(cue_word: str) -> str:
    """Regex for one cue word, matching a whole word of the text: short words and numbers
    exactly; longer words with an inflectional ending (on the word or on its stem);
    ``stem*`` as an explicit prefix."""
    if cue_word.endswith("*"):
        return re.escape(cue_word[:-1]) + r"[^ ]*"
    if len(cue_word) <= 3 or cue_word.isdigit():
        return re.escape(cue_word)
    st = stem(cue_word)
    alts = [re.escape(cue_word) + _INFL + "?"]
    if st != cue_word:
        alts.append(re.escape(st) + _INFL)
    return "(?:" + "|".join(alts) + ")"


@lru_cache(maxsize=4096)
def _cue_tokens(cue: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _CUE_TOKEN.findall(cue))


def _cue_regex(cue: str) -> str | None:
    cw = _cue_tokens(cue)
    if not cw:
        return None
    return " ".join(_word_regex(w) for w in cw)


@lru_cache(maxsize=1024)
def _compiled(cues: tuple[str, ...]) -> re.Pattern[str] | None:
    alts = [r for r in (_cue_regex(c) for c in cues) if r]
    if not alts:
        return None
    return re.compile(r"(?:^| )(?:" + "|".join(alts) + r")(?= |$)")


def cue_in(words: list[str], cue: str) -> bool:
    """True when the (possibly multi-word) cue occurs in the tokenised text as whole words
    (inflected endings allowed, ``stem*`` for an explicit prefix), case-insensitive."""
    return any_cue(words, (cue,))


def any_cue(words: list[str], cues: list[str] | tuple[str, ...]) -> bool:
    """True when any of the cues occurs in the tokenised text (same rules as ``cue_in``)."""
    pattern = _compiled(tuple(cues))
    return bool(pattern and pattern.search(" ".join(words)))


def count_cues(words: list[str], cues: list[str] | tuple[str, ...]) -> int:
    """How many of the cues occur in the tokenised text."""
    joined = " ".join(words)
    n = 0
    for c in cues:
        pattern = _compiled((c,))
        if pattern is not None and pattern.search(joined):
            n += 1
    return n


def cue_spans(words: list[str], cue: str) -> list[tuple[int, int]]:
    """(first, last + 1) word indices of every occurrence of the cue in the text."""
    pattern = _compiled((cue,))
    if pattern is None:
        return []
    n = len(_cue_tokens(cue))
    starts: dict[int, int] = {}
    offset = 0
    for i, w in enumerate(words):
        starts[offset] = i
        offset += len(w) + 1
    out: list[tuple[int, int]] = []
    joined = " ".join(words)
    pos = 0
    while True:
        m = pattern.search(joined, pos)
        if m is None:
            break
        first = starts[m.start() + (1 if m.group(0).startswith(" ") else 0)]
        out.append((first, first + n))
        pos = m.end()
    return out


def cue_positions(words: list[str], cue: str) -> set[int]:
    """Indices of the words of the text covered by occurrences of the cue."""
    out: set[int] = set()
    for a, b in cue_spans(words, cue):
        out.update(range(a, b))
    return out


def keyword_hits(words: list[str], cues: list[str] | tuple[str, ...]) -> int:
    """How many distinct words of the text are matched by the cues (variants of one
    keyword, such as 'morgen' and 'morgenerne', count once per word of the text)."""
    covered: set[int] = set()
    for c in cues:
        covered |= cue_positions(words, c)
    return len(covered)


def unmasked_cue(words: list[str], cues: list[str] | tuple[str, ...], masked: set[int]) -> bool:
    """True when some occurrence of a cue is not wholly inside the masked word positions."""
    if not masked:
        return any_cue(words, cues)
    for c in cues:
        for a, b in cue_spans(words, c):
            if not set(range(a, b)) <= masked:
                return True
    return False


# -- built-in cue lists (Danish and English) -------------------------------------------
BUILTIN: dict[str, tuple[str, ...]] = {
    # triggers: system-welfare moves
    "jargon": (
        "jobparat",
        "aktivitetsparat",
        "ressourceforløb",
        "indsatsplan",
        "handleplan",
        "matchgruppe",
        "matchkategori",
        "visitation",
        "visitere",
        "målgruppe",
        "paragraf",
        "lovgivningen",
        "rådighed",
        "kontanthjælpsmodtager",
        "børnefaglig undersøgelse",
        "underretning",
        "foranstaltning",
        "bevillingen",
        "afklaringsforløb",
        "progression",
        "dokumentationskrav",
        "servicelov",
        "beskæftigelsesindsats",
        "jobplan",
        "mentorindsats",
        "job ready",
        "eligibility",
        "compliance",
        "intervention",
        "case plan",
        "action plan",
        "statutory",
        "provision",
        "care plan",
        "outcome measures",
        "caseload",
        "pathway",
        "activation",
        "criteria",
    ),
    "directive": (
        "du skal",  # not "du skal ikke": see MASKS
        "du bliver nødt til",
        "du er nødt til",
        "det er et krav",
        "du har pligt",
        "du forventes",
        "sørg for",
        "du bør",
        "du må ikke",
        "det kræver vi",
        "vi kræver",
        "you must",
        "you have to",
        "you need to",
        "you are required",
        "make sure you",
        "you should",
        "you will attend",
        "you will start",
        "you're required",
    ),
    "sanction": (
        "sanktion",
        "trække i",
        "træk i",
        "fradrag",
        "stoppe din",
        "stoppe ydelsen",
        "miste din",
        "miste retten",
        "konsekvenser",
        "konsekvens",
        "nedsat ydelse",
        "frakend*",
        "tvangsanbring*",
        "stop din",
        "sanction",
        "stop your",
        "cut your",
        "lose your",
        "consequences",
        "penalty",
        "penalise",
        "penalize",
        "withdraw",
        "dock your",
        "suspend your",
    ),
    "suspicion": (
        "hvorfor har du ikke",
        "hvorfor mødte du ikke",
        "hvorfor kom du ikke",
        "passer det",
        "er du sikker på",
        "jeg tror ikke på",
        "undskyldning",
        "snyd",
        "snyder",
        "lyver",
        "skjuler",
        "tror jeg ikke",
        "det lyder usandsynligt",
        "hvordan kan det være at du ikke",
        "why didn't you",
        "why did you not",
        "why haven't you",
        "are you sure",
        "i don't believe",
        "excuse",
        "lying",
        "hiding something",
        "fraud",
        "cheating",
        "is that really true",
    ),
    "rushing": (
        "hurtigt",
        "kort tid",
        "kun 5 minutter",
        "kun fem minutter",
        "kun ti minutter",
        "kun 10 minutter",
        "travlt",
        "til sagen",
        "gå videre",
        "næste punkt",
        "skynd",
        "kort og godt",
        "tiden er knap",
        "vi når ikke",
        "get to the point",
        "quickly",
        "we only have",
        "in a hurry",
        "move on",
        "next item",
        "keep it short",
        "short on time",
        "no time",
    ),
    # being talked about as a case (about them, administratively), not mentioning the file
    # to show continuity ("jeg har læst din sag" is masked, see MASKS)
    "case_talk": (
        "sagen skal",
        "sagen er",
        "sagen bliver",
        "sagen blev",
        "sagen går",
        "sagen kan",
        "sagen lukkes",
        "sagen afsluttes",
        "sagen behandles",
        "sagen visiteres",
        "din sag skal",
        "din sag er",
        "din sag bliver",
        "din sag blev",
        "din sag går",
        "din sag lukkes",
        "din sag afsluttes",
        "lukke sagen",
        "lukke din sag",
        "afslutte sagen",
        "afslutte din sag",
        "i sagen",
        "i din sag står",
        "står der i din sag",
        "sagsakter",
        "journalen",
        "borgeren",
        "borgerens",
        "sagsnummer",
        "akterne",
        "your case will",
        "your case is",
        "your case was",
        "your case has",
        "your case goes",
        "your case must",
        "the case is",
        "the case will",
        "the case was",
        "the case has",
        "close your case",
        "close the case",
        "closing your case",
        "case file",
        "the file",
        "your file says",
        "on file",
        "the client",
        "the citizen",
        "case number",
    ),
    "labelling": (
        "umotiveret",
        "ikke motiveret",
        "misbruger",
        "ressourcesvag",
        "ressourcesvage",
        "problembarn",
        "uansvarlig",
        "dårlig mor",
        "dårlig far",
        "doven",
        "kriminel",
        "ikke jobparat",
        "unmotivated",
        "non compliant",
        "noncompliant",
        "addict",
        "problem family",
        "irresponsible",
        "lazy",
        "bad mother",
        "bad father",
        "criminal",
    ),
    # openers: relational moves
    "open_question": (),  # from the coder label and the question form below
    "reflection": (
        "det lyder som",
        "det lyder til",
        "så du",
        "du siger",
        "hvis jeg forstår dig",
        "jeg hører",
        "du fortæller",
        "du føler",
        "du oplever",
        "du har det",
        "it sounds like",
        "so you",
        "you're saying",
        "you are saying",
        "what i hear",
        "if i understand",
        "you feel",
        "you've been",
        "you have been",
    ),
    "asks_what_matters": (
        "hvad betyder mest",
        "hvad betyder noget",
        "betyder noget for dig",
        "vigtigt for dig",
        "vigtigst for dig",
        "hvad fylder",
        "hvad ønsker du",
        "hvad drømmer du",
        "hvad vil du gerne",
        "hvad ville hjælpe",
        "hvad har du brug for",
        "hvad tænker du selv",
        "hvordan ser du",
        "din egen mening",
        "what matters",
        "important to you",
        "what would help",
        "what do you want",
        "what do you need",
        "what would you like",
        "what do you hope",
        "how do you see",
        "your own view",
        "what do you think yourself",
    ),
    "asks_strengths": (
        "god til",
        "styrker",
        "hvem støtter",
        "hvem har du",
        "hvem kan du",
        "netværk",
        "hvem i dit liv",
        "hvad har hjulpet",
        "lykkedes",
        "lykkes",
        "stolt",
        "klaret dig",
        "klarede du",
        "du klarede",
        "good at",
        "strengths",
        "who supports",
        "who do you have",
        "who in your life",
        "what has helped",
        "what helped",
        "proud",
        "you managed",
        "coped",
        "got through",
    ),
    "asks_permission": (
        "må jeg",
        "er det okay",
        "er det ok",
        "er det i orden",
        "har du lyst til",
        "hvis du vil",
        "hvis du har lyst",
        "vil du have",
        "may i",
        "is it ok",
        "is it okay",
        "would it be ok",
        "would it be okay",
        "can i ask",
        "would you like",
        "if you want",
        "do you mind",
        "if that's ok",
    ),
    "uses_own_words": (),  # from overlap with the citizen's previous reply
    "transparency": (
        "jeg er her for at",
        "min rolle",
        "mit job er",
        "min opgave er",
        "jeg kan hjælpe",
        "jeg kan bevilge",
        "jeg har mulighed for",
        "jeg vil være ærlig",
        "for at være ærlig",
        "det jeg skriver",
        "hvad jeg skriver",
        "rammerne",
        "jeg skal skrive",
        "i'm here to",
        "i am here to",
        "my role",
        "my job is",
        "i can offer",
        "to be honest",
        "to be transparent",
        "what i write",
        "what i will write",
        "i have to write",
    ),
    "validation": (
        "det forstår jeg",
        "forståeligt",
        "det giver mening",
        "giver god mening",
        "det lyder hårdt",
        "det lyder svært",
        "det lyder tungt",
        "det må være",
        "helt okay",
        "ikke mærkeligt",
        "tak fordi du",
        "godt at du",
        "godt du",
        # autonomy / relief: negated obligations
        "du skal ikke",
        "du behøver ikke",
        "du er ikke nødt til",
        "det er frivilligt",
        "det bestemmer du",
        "du bestemmer",
        "det er op til dig",
        "you don't have to",
        "you do not have to",
        "you won't have to",
        "you will not have to",
        "you don't need to",
        "you do not need to",
        "it's up to you",
        "it is up to you",
        "you decide",
        "that makes sense",
        "understandable",
        "sounds hard",
        "sounds difficult",
        "must be hard",
        "must have been",
        "of course you",
        "thank you for",
        "it's okay to",
        "no wonder",
        "good that you",
    ),
}

# Occurrences of a kind's cues that lie wholly inside one of these phrases do not count
# (for the built-in cues, the scenario's cues and the coder's flags alike): a negated
# obligation is a relief, not a directive; reading their file is continuity, not case talk.
MASKS: dict[str, tuple[str, ...]] = {
    "directive": (
        "du skal ikke",
        "du skal slet ikke",
        "du skal altså ikke",
        "du behøver ikke",
        "du er ikke nødt til",
        "du bliver ikke nødt til",
        "you don't have to",
        "you do not have to",
        "you won't have to",
        "you will not have to",
        "you don't need to",
        "you do not need to",
    ),
    "case_talk": (
        "læst din sag",
        "læst sagen",
        "læst i din sag",
        "læst i sagen",
        "kigget på din sag",
        "kigget i din sag",
        "kender din sag",
        "gennemgået din sag",
        "din sagsbehandler",
        "read your case",
        "read your file",
        "read the file",
        "looked at your case",
        "looked at your file",
        "gone through your file",
        "know your case",
        "your caseworker",
    ),
}

# Talk to the machine rather than to the person (prompt injection, role-play breaking,
# asking for scores): the citizen does not understand it, so nothing in it opens them.
META: tuple[str, ...] = (
    "system prompt",
    "systemprompt*",
    "instructions",
    "instruktioner",
    "role play",
    "roleplay",
    "rollespil*",
    "scenario*",
    "scenarie*",
    "language model",
    "sprogmodel*",
    "chatgpt",
    "ai",
    "hidden facts",
    "skjulte fakta",
    "disclosure",
    "the author",
    "forfatteren",
    "rubric",
    "rubrik*",
    "what score would",
    "give me a score",
    "score me",
    "my score",
    "rate my",
    "evaluate my",
    "vurder min",
    "giv mig en karakter",
    "give me feedback",
    "giv mig feedback",
    "you are now",
    "du er nu",
    "pretend you are",
    "lad som om du er",
    "stop being",
    "stop med at være",
    "depth 3",
    "dybde 3",
)

# coder labels that count as opener moves
LABEL_MOVES: dict[str, str] = {
    "open_question": "open_question",
    "simple_reflection": "reflection",
    "complex_reflection": "reflection",
}

_OPEN_Q = re.compile(
    r"(^|[.!,;:]\s*)(hvad|hvordan|hvorfor|hvornår|hvem|hvilke|hvilken|fortæl|beskriv|"
    r"what|how|why|when|who|which|tell me|describe)\b",
    re.IGNORECASE,
)

# a turn proposes something: strong cues always, weak cues only in a longer turn
PROPOSAL_STRONG: tuple[str, ...] = (
    "jeg foreslår",
    "jeg vil foreslå",
    "mit forslag",
    "et forslag",
    "vi kunne",
    "du kunne",
    "kunne du tænke dig",
    "planen er",
    "planen bliver",
    "en plan",
    "vi aftaler",
    "skal vi aftale",
    "du skal starte",
    "du skal begynde",
    "du skal deltage",
    "du skal i",
    "jeg henviser",
    "jeg vil henvise",
    "jeg tilmelder",
    "tilbyde dig",
    "tilbud om",
    "hvad med at",
    "hvad hvis vi",
    "hvad hvis du",
    "hvad hvis jeg",
    "hvad hvis nogen",
    "hvad hvis din",
    "skal vi prøve",
    "jeg kan godt skrive",
    "jeg kan skrive",
    "jeg kan ringe",
    "jeg kan tage med",
    "jeg kan gå med",
    "i suggest",
    "i propose",
    "my suggestion",
    "we could",
    "you could",
    "how about",
    "what about trying",
    "the plan is",
    "a plan",
    "let's agree",
    "shall we try",
    "you will start",
    "you will attend",
    "i'll refer",
    "i will refer",
    "sign you up",
    "offer you",
    "what if we",
    "what if you",
    "what if i",
    "what if someone",
    "what if somebody",
    "what if your",
    "i can write",
    "i can call",
    "i can come with",
    "i could come with",
)
PROPOSAL_WEAK: tuple[str, ...] = ("hvad med", "skal vi", "what about", "shall we", "let's")

# asking for their view on a concrete action is a proposal ("Hvad tænker du om at starte på
# værkstedet?", "What do you think about a course?"); asking for their view on a state of
# affairs is not ("Hvad tænker du om, at Lene er bekymret?", "... about your neighbour?")
_VIEW_FRAME = (
    r"hvad\s+(?:tænker|synes|siger)\s+du\s+(?:om|til)"
    r"|what\s+do\s+you\s+(?:think|say)\s+(?:about|of|to)"
    r"|how\s+would\s+you\s+feel\s+about"
)
_SUBJECT = (
    r"(?:jeg|du|han|hun|de|vi|i|den|det|der|din|dit|dine|man|nogen|mig|dig|dem|hende|ham"
    r"|[A-ZÆØÅ]\w*)"
)
_VIEW_PROPOSAL = re.compile(
    rf"\b(?i:{_VIEW_FRAME})\s*(?::\s*|\s)"
    r"(?:(?i:en|et|ét|a|an|the\s+idea|ideen|this|det\s+her|følgende)\b"
    rf"|(?i:at)\s+(?!{_SUBJECT}\b)\w+"  # 'om at starte …', not 'om at Lene …'
    r"|(?i:(?!(?:every|some|any|no)?thing\b|being\b)\w+ing)\b)",  # 'about trying …'
)
# a modal offer or suggestion at the start of a sentence: "Kunne din nabo …", "Could your
# neighbour …", "Jeg kunne skrive …", "I could call …"
_MODAL_PROPOSAL = re.compile(
    r"(?:^|[.!?]\s+|,\s*)(?:"
    r"(?:kunne|could)\s+(?:din|dit|dine|nogen|en|et|vi|jeg|your|someone|somebody|a|an|we|i|one)\b"
    r"|(?:jeg|i)\s+(?:kunne|could)\s+(?!(?:(?:også|godt|evt|eventuelt|måske|also|maybe)\s+)?"
    r"(?:forstå|høre|se|mærke|fornemme|læse|lide|ikke|understand|hear|see|tell|feel|imagine"
    r"|not)\b)\w+"
    r")",
    re.IGNORECASE,
)


@dataclass
class Moves:
    """The moves found in one practitioner turn: kind -> strength (0..3)."""

    label: str = "other"
    confidence: float = 0.0
    triggers: dict[str, float] = field(default_factory=dict)
    openers: dict[str, float] = field(default_factory=dict)
    proposal: bool = False
    meta: bool = False  # talks to the machine, not to the person: opens nothing

    @property
    def kinds(self) -> list[str]:
        return sorted(self.triggers) + sorted(self.openers)

    def strongest_trigger(self) -> str | None:
        return _strongest(self.triggers, TRIGGER_KINDS)

    def strongest_opener(self) -> str | None:
        return _strongest(self.openers, OPENER_KINDS)


def _strongest(d: dict[str, float], order: tuple[str, ...]) -> str | None:
    if not d:
        return None
    return max(d, key=lambda k: (d[k], -order.index(k)))


def _bump(d: dict[str, float], kind: str, strength: float) -> None:
    d[kind] = round(min(MAX_STRENGTH, max(d.get(kind, 0.0), strength)), 3)


_STOP = frozenset(
    [
        "ikke",
        "noget",
        "nogen",
        "bare",
        "meget",
        "også",
        "altid",
        "aldrig",
        "hvordan",
        "hvorfor",
        "hvad",
        "hvem",
        "have",
        "havde",
        "være",
        "været",
        "kommer",
        "skulle",
        "kunne",
        "ville",
        "måske",
        "rigtig",
        "godt",
        "gerne",
        "their",
        "there",
        "about",
        "would",
        "could",
        "should",
        "which",
        "where",
        "these",
        "those",
        "think",
        "really",
        "always",
        "never",
        "something",
        "anything",
    ]
)


def own_words_overlap(text_words: list[str], previous_citizen: str | None) -> int:
    """Content words (5+ letters) the practitioner takes from the citizen's last reply."""
    if not previous_citizen:
        return 0
    prev = {stem(w) for w in tokens(previous_citizen) if len(w) >= 5 and w not in _STOP}
    mine = {stem(w) for w in text_words if len(w) >= 5 and w not in _STOP}
    return len(prev & mine)


def detect_proposal(text: str) -> bool:
    """A concrete suggested action (not a question about their view)."""
    words = tokens(text)
    if any_cue(words, PROPOSAL_STRONG):
        return True
    flat = " ".join(text.split())
    if _VIEW_PROPOSAL.search(flat) or _MODAL_PROPOSAL.search(flat.strip()):
        return True
    return len(words) >= 6 and any_cue(words, PROPOSAL_WEAK)


def _masked_positions(words: list[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for kind, phrases in MASKS.items():
        pos: set[int] = set()
        for p in phrases:
            pos |= cue_positions(words, p)
        if pos:
            out[kind] = pos
    return out


def _fires(words: list[str], kind: str, scenario: Scenario, masked: dict[str, set[int]]) -> bool:
    """Whether a cue of this kind (built-in or the scenario's) occurs outside its masks."""
    cues = list(BUILTIN.get(kind, ()))
    for cue in (*scenario.triggers, *scenario.openers):
        if cue.kind.value == kind:
            cues += cue.keywords
    return bool(cues) and unmasked_cue(words, cues, masked.get(kind, set()))


def classify(
    text: str,
    scenario: Scenario,
    coded: object | None = None,
    previous_citizen: str | None = None,
) -> Moves:
    """Find the moves in one practitioner turn.

    ``coded`` is a ``coach.coder.Coded`` (label, confidence, flags) or None.
    """
    words = tokens(text)
    moves = Moves()
    masked = _masked_positions(words)
    if coded is not None:
        moves.label = str(getattr(coded, "label", "other"))
        moves.confidence = float(getattr(coded, "confidence", 0.0))
        for flag in getattr(coded, "flags", ()) or ():
            if flag in masked and not _fires(words, flag, scenario, masked):
                continue  # the coder's lexicon saw "du skal" in "du skal ikke …"
            if flag in TRIGGER_KINDS:
                _bump(moves.triggers, flag, 1.0)
            elif flag in OPENER_KINDS:
                _bump(moves.openers, flag, 1.0)
        if moves.label in LABEL_MOVES:
            _bump(moves.openers, LABEL_MOVES[moves.label], 1.0)

    for kind, cues in BUILTIN.items():
        if cues and unmasked_cue(words, cues, masked.get(kind, set())):
            target = moves.triggers if kind in TRIGGER_KINDS else moves.openers
            _bump(target, kind, 1.0)
    for tcue in scenario.triggers:
        kind_mask = masked.get(tcue.kind.value, set())
        if tcue.keywords and unmasked_cue(words, tcue.keywords, kind_mask):
            _bump(moves.triggers, tcue.kind.value, tcue.weight)
    for ocue in scenario.openers:
        if ocue.keywords and any_cue(words, ocue.keywords):
            _bump(moves.openers, ocue.kind.value, ocue.weight)

    if "?" in text and _OPEN_Q.search(text.strip()):
        _bump(moves.openers, "open_question", 1.0)
    overlap = own_words_overlap(words, previous_citizen)
    if overlap >= 2 or (overlap >= 1 and "reflection" in moves.openers):
        _bump(moves.openers, "uses_own_words", 1.0)

    # a suspicious "why" is not an open question
    if "suspicion" in moves.triggers:
        moves.openers.pop("open_question", None)
    moves.proposal = detect_proposal(text)
    if any_cue(words, META):
        moves.meta = True
        moves.openers.clear()
        moves.proposal = False
    return moves
