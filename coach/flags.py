"""Relational indicator flags on a practitioner utterance (lexicon/regex, Danish and English).

    detect_flags(text, previous_citizen=None, language="da", extra=None) -> frozenset[str]

Flags (see ``coach.coder.FLAGS``):
    asks_what_matters, asks_strengths, asks_permission, uses_own_words      (relational)
    jargon, directive, sanction, suspicion, labelling                        (system language)

The keyword lists live in :data:`LEXICON` (``flag -> language -> tuple of phrases``).
Callers add scenario-specific keywords per call, without touching the shared lists::

    detect_flags(text, prev, "da", extra={"jargon": ["visitationsudvalget"]})

or build a reusable :class:`Lexicon` with :meth:`Lexicon.extended`. A keyword is a plain
phrase, matched case-insensitively at a word start, whitespace-tolerant, and allowing
inflection on its end ("foranstaltning" matches "foranstaltningerne").
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

FLAG_NAMES: tuple[str, ...] = (
    "asks_what_matters",
    "asks_strengths",
    "asks_permission",
    "uses_own_words",
    "jargon",
    "directive",
    "sanction",
    "suspicion",
    "labelling",
)
RELATIONAL_FLAGS = frozenset(
    {"asks_what_matters", "asks_strengths", "asks_permission", "uses_own_words"}
)
SYSTEM_FLAGS = frozenset({"jargon", "directive", "sanction", "suspicion", "labelling"})

# Flags whose keywords only count when the utterance is a question or an invitation to talk.
_NEEDS_QUESTION = frozenset({"asks_what_matters", "asks_strengths"})
# Flags where English keywords also count in Danish text (administrative loanwords).
_ENGLISH_ALSO_IN_DANISH = frozenset({"jargon", "labelling"})

_DA: dict[str, tuple[str, ...]] = {
    "asks_what_matters": (
        "vigtigt for dig",
        "vigtigst for dig",
        "betyder noget for dig",
        "betyder mest for dig",
        "betyder det for dig",
        "hvad fylder",
        "fylder mest",
        "hvad ønsker du",
        "ønsker du dig",
        "hvad drømmer du",
        "drømme har du",
        "dine drømme",
        "hvad håber du",
        "håb har du",
        "hvad vil du gerne",
        "hvad kunne du tænke dig",
        "hvad er en god dag",
        "god dag ser ud",
        "hvad skal der til",
        "hvad er dit mål",
        "dine mål",
        "hvad optager dig",
        "hvad er på spil for dig",
        "hvad synes du selv",
        "hvad vil du selv",
        "hvad motiverer dig",
        "hvad ville være anderledes",
    ),
    "asks_strengths": (
        "god til",
        "dine styrker",
        "styrke",
        "ressourcer har du",
        "dine ressourcer",
        "hvad har hjulpet",
        "har hjulpet dig",
        "hjalp dig",
        "hvem kan hjælpe",
        "hvem kan støtte",
        "hvem kan du ringe",
        "hvem kan du tale",
        "hvem i dit",
        "hvem har du",
        "dit netværk",
        "netværk",
        "hvem står dig nær",
        "klaret dig igennem",
        "klarede du",
        "klaret det",
        "hvad lykkes",
        "lykkedes",
        "hvad gør du godt",
        "stolt af",
        "hvem støtter",
        "familie og venner",
        "dine venner",
        "hvem holder af dig",
    ),
    "asks_permission": (
        "må jeg fortælle",
        "må jeg foreslå",
        "må jeg komme med",
        "må jeg give",
        "må jeg dele",
        "må jeg sige",
        "må jeg spørge",
        "er det okay at jeg",
        "er det okay, at jeg",
        "er det i orden at jeg",
        "er det i orden, at jeg",
        "vil du høre",
        "har du lyst til at høre",
        "vil du have, at jeg",
        "vil du have at jeg",
        "må jeg byde ind",
        "er du interesseret i at høre",
        "kunne du tænke dig at høre",
        "vil det være okay",
        "må jeg lige",
    ),
    "jargon": (
        "foranstaltning",
        "§ 50-undersøgelse",
        "§50-undersøgelse",
        "paragraf 50",
        "§ 11",
        "børnefaglig undersøgelse",
        "børnefaglige undersøgelse",
        "handleplan",
        "aktivering",
        "aktiveringstilbud",
        "målgruppe",
        "compliance",
        "intervention",
        "indsatsplan",
        "visitation",
        "visiteret",
        "bevilling",
        "bevilget",
        "jobparat",
        "aktivitetsparat",
        "ressourceforløb",
        "rehabiliteringsteam",
        "rehabiliteringsplan",
        "serviceloven",
        "barnets lov",
        "beskæftigelsesloven",
        "lab-loven",
        "aktivloven",
        "lovgivningen",
        "sagsbehandlingsfrist",
        "partshøring",
        "revisitation",
        "funktionsevnevurdering",
        "arbejdsevnevurdering",
        "arbejdsevne",
        "udredning",
        "kontanthjælpsloftet",
        "225-timersreglen",
        "rådighedsforpligtelse",
        "rådighedsvurdering",
        "jobplan",
        "virksomhedsrettet tilbud",
        "virksomhedsrettet",
        "målgruppevurdering",
        "matchgruppe",
        "matchkategori",
        "tilbud efter",
        "forsørgelsesgrundlag",
        "afklaringsforløb",
        "indsatskategori",
        "progressionsmåling",
        "dokumentationskrav",
        "sagsåbning",
        "underretning",
        "opfølgningssamtale",
        "kontaktforløb",
        "mål og delmål",
        "helhedsorienteret plan",
        "bostøtte efter § 85",
        "§ 85",
        "§ 52",
        "§ 76",
        "§ 107",
    ),
    "directive": (
        "du skal",
        "du må ikke",
        "du bliver nødt til",
        "du er nødt til",
        "det er et krav",
        "du har pligt til",
        "du er forpligtet til",
        "du skal bare",
        "det forventer vi",
        "vi forventer, at du",
        "vi forventer at du",
        "du skal sørge for",
        "sørg for at",
        "sørg for",
        "det er ikke til forhandling",
        "gør det nu",
    ),
    "sanction": (
        "trukket i ydelse",
        "træk i ydelse",
        "træk i din ydelse",
        "trækker i din ydelse",
        "trukket i din",
        "sanktion",
        "sanktioner",
        "stoppe din ydelse",
        "stoppe dine penge",
        "stoppe din kontanthjælp",
        "miste din ydelse",
        "miste din kontanthjælp",
        "miste retten",
        "mister retten",
        "miste dine penge",
        "bliver stoppet",
        "får konsekvenser",
        "få konsekvenser",
        "konsekvenser for din",
        "så må vi underrette",
        "vi bliver nødt til at underrette",
        "vi er nødt til at underrette",
        "indberette",
        "anbringe",
        "fjerne børnene",
        "anbragt uden for hjemmet",
        "nedsat ydelse",
        "nedsætte din",
        "partshøre dig",
        "uden ydelse",
        "ellers sker der",
    ),
    "suspicion": (
        "er du sikker på",
        "er du nu sikker",
        "har du virkelig",
        "har du nu virkelig",
        "det har vi hørt før",
        "det har jeg hørt før",
        "det tror jeg ikke på",
        "passer det nu",
        "passer det virkelig",
        "er det nu rigtigt",
        "er det virkelig rigtigt",
        "det kan jeg næsten ikke tro",
        "det er svært at tro",
        "hvordan kan det være, at du altid",
        "hvordan kan det være at du altid",
        "du siger altid",
        "sidste gang sagde du også",
        "det sagde du også sidst",
        "er det hele sandheden",
        "skal jeg tro på det",
        "lyver du",
        "hvem skal jeg tro på",
        "det lyder lidt for godt",
        "helt ærligt?",
    ),
    "labelling": (
        "misbruger",
        "misbrugeren",
        "alkoholiker",
        "narkoman",
        "svag mor",
        "svage mor",
        "svag far",
        "svage forældre",
        "dårlig mor",
        "dårlig far",
        "dårlige forældre",
        "problembarn",
        "problemfamilie",
        "ressourcesvag",
        "tung sag",
        "svær sag",
        "håbløs sag",
        "umulig sag",
        "umotiveret",
        "ikke-samarbejdsvillig",
        "ikke samarbejdsvillig",
        "manipulerende",
        "uansvarlig",
        "omsorgssvigtende",
        "psykisk ustabil",
        "kronisk ledig",
        "sådan nogle som dig",
        "din slags",
    ),
}

_EN: dict[str, tuple[str, ...]] = {
    "asks_what_matters": (
        "what matters",
        "important to you",
        "matters most",
        "what do you want",
        "what would you like",
        "what are your hopes",
        "what do you hope",
        "what are your goals",
        "your goals",
        "what would be different",
        "what does a good day",
        "good day look like",
        "what do you care about",
        "what would it take",
        "what do you think should",
        "what motivates you",
        "your dreams",
        "what do you wish",
    ),
    "asks_strengths": (
        "good at",
        "your strengths",
        "strengths",
        "what has helped",
        "helped you before",
        "helped you in the past",
        "who could support",
        "who can support",
        "who could help",
        "who can help",
        "who in your life",
        "your network",
        "network",
        "who do you have",
        "who can you call",
        "got through",
        "get through",
        "proud of",
        "what went well",
        "what has worked",
        "friends and family",
        "who supports you",
        "who cares about you",
    ),
    "asks_permission": (
        "is it okay if i",
        "is it ok if i",
        "is it alright if i",
        "would it be okay if i",
        "may i",
        "can i share",
        "can i suggest",
        "can i offer",
        "could i share",
        "would you like me to",
        "would you like to hear",
        "do you mind if i",
        "would you be interested in hearing",
        "would it be all right",
        "with your permission",
    ),
    "jargon": (
        "case plan",
        "care plan",
        "eligibility",
        "eligible",
        "compliance",
        "intervention",
        "target group",
        "service provision",
        "assessment framework",
        "activation",
        "caseload",
        "service user",
        "referral pathway",
        "outcome measures",
        "kpi",
        "safeguarding plan",
        "section 47",
        "section 17",
        "statutory",
        "conditionality",
        "work capability assessment",
        "claimant commitment",
        "benefit cap",
        "action plan",
        "provision",
        "deliverables",
        "case management",
        "the system shows",
        "as per",
    ),
    "directive": (
        "you need to",
        "you must",
        "you have to",
        "you've got to",
        "you have got to",
        "you are required to",
        "you're required to",
        "it is mandatory",
        "it's mandatory",
        "make sure you",
        "i expect you to",
        "we expect you to",
        "you are obliged to",
        "you will need to",
        "this is not negotiable",
    ),
    "sanction": (
        "benefits stopped",
        "stop your benefits",
        "benefits will be stopped",
        "benefits will stop",
        "lose your benefits",
        "cut your benefits",
        "sanction",
        "sanctioned",
        "we will have to report",
        "we'll have to report",
        "we have to report",
        "report you",
        "there will be consequences",
        "face consequences",
        "taken into care",
        "remove the children",
        "your payments will",
        "payments stopped",
        "or else",
    ),
    "suspicion": (
        "have you really",
        "are you sure you",
        "are you sure that you",
        "we've heard that before",
        "we have heard that before",
        "i've heard that before",
        "i find that hard to believe",
        "is that really true",
        "is that the whole truth",
        "are you telling me the truth",
        "honestly?",
        "you always say",
        "you said that last time",
        "do you expect me to believe",
        "really?",
        "i doubt that",
    ),
    "labelling": (
        "non-compliant",
        "noncompliant",
        "a difficult case",
        "difficult case",
        "addict",
        "alcoholic",
        "junkie",
        "bad mother",
        "bad father",
        "weak mother",
        "problem family",
        "hopeless case",
        "unmotivated",
        "manipulative",
        "in denial",
        "troubled family",
        "frequent flyer",
        "benefit scrounger",
        "scrounger",
        "resistant client",
        "your kind",
        "people like you",
    ),
}

LEXICON: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {f: MappingProxyType({"da": _DA.get(f, ()), "en": _EN.get(f, ())}) for f in FLAG_NAMES}
)

_QUESTION_START = re.compile(
    r"^\W*(hvad|hvordan|hvorfor|hvornår|hvem|hvilke|hvilken|hvilket|hvor|fortæl|beskriv|"
    r"kan du fortælle|vil du fortælle|what|how|why|when|who|which|where|tell me|describe|"
    r"could you tell|can you tell)\b",
    re.I,
)

_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_STOP_WORDS = """
    og i at det er en et den de du jeg han hun vi man som på med til for af har have
    ikke så men eller hvis når der her nu lige bare også meget mere mest lidt godt rigtig
    helt altid aldrig noget nogen nogle ingen alle alt hvad hvordan hvorfor hvem hvor
    kan vil skal må bør kunne ville skulle være været blive blevet bliver gøre gør gjort
    komme kommer kom synes syntes tænker tror ved vide føler sige siger sagde
    min mit mine din dit dine sin sit sine hans hendes deres vores jeres mig dig sig os jer dem
    sådan også nok jo vel da dog fordi mens efter før under over ud ind op ned hen
    hele selv sammen igen stadig allerede måske faktisk virkelig egentlig
    dag dage gang gange tid år ting
    the and a an of to in on at for with is are was were be been being have has had do does
    did not no yes but or if when then so that this these those it its i you he she we they
    me him her us them my your his their our what how why who where which just really very
    quite more most much some any all can could will would should shall may might must
    about into out up down over again also too only still even like well know think feel
    said say says get got going go went come came make made thing things time times day days
    """
_STOP = frozenset(_STOP_WORDS.split())


def _phrase_pattern(phrase: str) -> str:
    p = phrase.strip().lower()
    parts = [re.escape(w) for w in p.split()]
    body = r"\s*".join(parts)
    start = r"(?<!\w)" if p[:1].isalnum() or p[:1] == "§" else ""
    if p[-1:].isalnum():
        body += r"\w*"  # inflection: foranstaltning -> foranstaltningerne
    return start + body


class Lexicon:
    """Compiled keyword lists; immutable, safe to share between threads."""

    def __init__(self, words: Mapping[str, Mapping[str, Iterable[str]]]) -> None:
        self.words: dict[str, dict[str, tuple[str, ...]]] = {
            flag: {lang: tuple(ws) for lang, ws in by_lang.items()}
            for flag, by_lang in words.items()
        }
        self._compiled: dict[tuple[str, str], re.Pattern[str] | None] = {}
        self._lock = threading.Lock()

    def extended(self, extra: Mapping[str, Iterable[str]], language: str | None = None) -> Lexicon:
        """A new lexicon with extra phrases per flag (for ``language``, or every language)."""
        words = {f: dict(by_lang) for f, by_lang in self.words.items()}
        for flag, phrases in extra.items():
            if flag not in FLAG_NAMES:
                raise KeyError(f"unknown flag {flag!r}")
            add = tuple(p for p in phrases if p and p.strip())
            langs = [language] if language else (list(words.get(flag, {})) or ["da", "en"])
            for lang in langs:
                words.setdefault(flag, {})[lang] = words.get(flag, {}).get(lang, ()) + add
        return Lexicon(words)

    def pattern(self, flag: str, language: str) -> re.Pattern[str] | None:
        key = (flag, language)
        with self._lock:
            if key not in self._compiled:
                by_lang = self.words.get(flag, {})
                if language in by_lang:
                    phrases = list(by_lang[language])
                    if language == "da" and flag in _ENGLISH_ALSO_IN_DANISH:
                        phrases += list(by_lang.get("en", ()))
                else:  # unknown language: everything we have
                    phrases = [p for ws in by_lang.values() for p in ws]
                phrases = sorted({p for p in phrases if p.strip()}, key=len, reverse=True)
                self._compiled[key] = (
                    re.compile("|".join(_phrase_pattern(p) for p in phrases), re.I)
                    if phrases
                    else None
                )
            return self._compiled[key]


DEFAULT_LEXICON = Lexicon(LEXICON)


@lru_cache(maxsize=256)
def _cached_extension(extra_items: tuple[tuple[str, tuple[str, ...]], ...]) -> Lexicon:
    return DEFAULT_LEXICON.extended(dict(extra_items))


def _is_question_like(text: str) -> bool:
    return "?" in text or bool(_QUESTION_START.search(text))


def content_words(text: str) -> set[str]:
    return {w for w in (t.lower() for t in _TOKEN.findall(text)) if len(w) >= 4 and w not in _STOP}


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    # Danish/English inflection: a shared stem of 5+ letters ("morgenerne" / "morgenen")
    return min(len(a), len(b)) >= 5 and a[:5] == b[:5]


def own_words(text: str, previous_citizen: str | None) -> set[str]:
    """Distinctive words of the citizen's previous turn that the practitioner re-uses."""
    if not previous_citizen:
        return set()
    theirs = content_words(previous_citizen)
    mine = content_words(text)
    return {w for w in theirs if any(_same_word(w, m) for m in mine)}


# "du skal ikke …" / "you don't have to …" relieve the citizen of a demand: not a directive
_NEGATED_OBLIGATION = re.compile(
    r"\b(?:du|i|man)\s+(?:skal|behøver|bør|må)\s+ikke\b"
    r"|\byou\s+(?:don'?t|do\s+not|won'?t|will\s+not|needn'?t|need\s+not)\s+(?:have\s+to|need\s+to|need)\b"
    r"|\bno\s+need\s+to\b",
    re.IGNORECASE,
)


def detect_flags(
    text: str,
    previous_citizen: str | None = None,
    language: str = "da",
    extra: Mapping[str, Iterable[str]] | None = None,
    lexicon: Lexicon | None = None,
) -> frozenset[str]:
    """Relational indicator flags of one practitioner utterance.

    ``extra`` adds scenario keywords per flag (e.g. ``{"jargon": ["visitationsudvalget"]}``);
    ``lexicon`` replaces the default lexicon entirely.
    """
    if not text or not text.strip():
        return frozenset()
    lex = lexicon or DEFAULT_LEXICON
    if extra:
        items = tuple(sorted((f, tuple(ws)) for f, ws in extra.items()))
        lex = _cached_extension(items) if lexicon is None else lex.extended(dict(items))
    lang = (language or "da").lower()[:2]
    found: set[str] = set()
    question_like = _is_question_like(text)
    for flag in FLAG_NAMES:
        if flag == "uses_own_words":
            continue
        if flag in _NEEDS_QUESTION and not question_like:
            continue
        pat = lex.pattern(flag, lang)
        target = _NEGATED_OBLIGATION.sub(" … ", text) if flag == "directive" else text
        if pat is not None and pat.search(target):
            found.add(flag)
    if own_words(text, previous_citizen):
        found.add("uses_own_words")
    return frozenset(found)
