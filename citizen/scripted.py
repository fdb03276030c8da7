"""Scripted practitioners, used by the fidelity tests and the latency benchmark.

- :class:`RelationalPractitioner` asks open questions about the citizen's own view,
  reflects their words back, asks what matters, about strengths and network, asks
  permission, follows the scenario's topics, and finally proposes the scenario's first
  acceptable plan in its own terms.
- :class:`MixedPractitioner` is relational with one system move mid-way.
- :class:`SystemPractitioner` talks jargon, gives directives, threatens sanctions, doubts
  the citizen, rushes and talks about them as a case.

Both are generic: they read only the scenario's language, topics and plans.
"""

from __future__ import annotations

import re

from citizen.engine import Citizen
from citizen.moves import read_moves
from citizen.schema import Scenario

_SWAP = {
    "da": {"jeg": "du", "mig": "dig", "min": "din", "mit": "dit", "mine": "dine", "vi": "I"},
    "en": {"i": "you", "me": "you", "my": "your", "mine": "yours", "i'm": "you're", "am": "are"},
}

RELATIONAL: dict[str, list[str]] = {
    "da": [
        "Hej {name}. Jeg hedder Maria, og jeg er her for at lytte til, hvordan du selv ser det. "
        "Hvad er vigtigt for dig, at vi taler om i dag?",
        "Det lyder som om {echo}. Hvordan er det for dig? {example}",
        "Hvad betyder mest for dig lige nu? {example}",
        "Hvad er du god til, og hvem i dit liv støtter dig? {example}",
        "Må jeg spørge ind til noget? {example}",
        "Det giver god mening, at du har det sådan. Så du siger, at {echo}. {example}",
        "Hvad ville hjælpe dig, set med dine egne øjne? {example}",
        "Tak fordi du fortæller mig det. Må jeg spørge, hvad der betyder noget for dig her? {example}",
    ],
    "en": [
        "Hi {name}. I'm Maria, and I'm here to listen to how you see things yourself. "
        "What is important to you that we talk about today?",
        "It sounds like {echo}. How is that for you? {example}",
        "What matters most to you right now? {example}",
        "What are you good at, and who in your life supports you? {example}",
        "May I ask you about something? {example}",
        "That makes sense. So you're saying {echo}. {example}",
        "What would help, as you see it yourself? {example}",
        "Thank you for telling me. May I ask what matters to you here? {example}",
    ],
}
PROPOSE: dict[str, str] = {
    "da": "Jeg hører, hvad der betyder noget for dig. Hvad siger du til det her: {plan}? "
    "Altså {keywords}. Det er dig, der bestemmer.",
    "en": "I hear what matters to you. What do you think about this: {plan}? "
    "So, {keywords}. It is your decision.",
}

SYSTEM: dict[str, list[str]] = {
    "da": [
        "Vi har kun 5 minutter, så lad os komme til sagen.",
        "Du skal overholde handleplanen. Det er et krav fra kommunen.",
        "Hvorfor mødte du ikke op sidst? Det lyder som en undskyldning.",
        "Hvis det sker igen, får det konsekvenser, og vi kan trække i din ydelse.",
        "Borgeren fremstår umotiveret, står der i sagen.",
        "Du er nødt til at følge indsatsplanen og målgruppens foranstaltning.",
        "Er du sikker på, at det passer? Jeg tror ikke på det.",
        "Kort og godt: du skal starte i et forløb på mandag klokken otte.",
        "Jeg skal bare have udfyldt skemaet hurtigt til journalen.",
        "Du bør tage dig sammen. Ellers må vi se på en sanktion.",
        "Sagen skal visiteres, og du er ikke jobparat.",
        "Lad os gå videre til næste punkt, vi har travlt.",
        "Det er dit ansvar. Du må ikke udeblive igen.",
        "Hvorfor har du ikke gjort, som vi aftalte? Det lyder som en undskyldning igen.",
        "Du skal bare gøre, som der står i handleplanen, ellers stopper vi din ydelse.",
    ],
    "en": [
        "We only have 5 minutes, so let's get to the point.",
        "You must comply with the action plan. It is a requirement.",
        "Why didn't you turn up last time? That sounds like an excuse.",
        "If it happens again there will be consequences, and we can cut your benefit.",
        "The client appears unmotivated, according to the case file.",
        "You need to follow the care plan and the intervention criteria.",
        "Are you sure that is true? I don't believe it.",
        "To keep it short: you will start on a programme on Monday at eight.",
        "I just need to fill in this form quickly for the file.",
        "You should pull yourself together, or we will look at a sanction.",
        "Your case has to go through the eligibility assessment, and you are not job ready.",
        "Let's move on to the next item, we are short on time.",
        "It is your responsibility. You must not miss meetings again.",
        "Why haven't you done what we agreed? That sounds like another excuse.",
        "You have to do what the action plan says, or we will stop your benefit.",
    ],
}

UNRELATED_PLANS: dict[str, list[str]] = {
    "da": [
        "Jeg foreslår, at du flytter til Grønland og begynder som fisker.",
        "Vi kunne melde dig ind i en golfklub for ledere.",
        "Hvad siger du til et kursus i at bygge robotter i Tyskland?",
        "Jeg foreslår, at du køber en hest og starter en rideskole.",
        "Du kunne tage på et højskoleophold om opera i Italien.",
    ],
    "en": [
        "I suggest you move to Greenland and start work as a fisherman.",
        "We could sign you up for a golf club for managers.",
        "What do you think about a course in building robots in Germany?",
        "I suggest you buy a horse and start a riding school.",
        "You could take an opera course abroad in Italy.",
    ],
}


NEUTRAL_ECHO = {"da": "det har været svært", "en": "it has been hard"}


def _echo(reply: str, language: str, max_words: int = 9, scenario: Scenario | None = None) -> str:
    """The first sentence of the reply in the second person. With a scenario, sentences
    whose echo would contain a trigger ("…you was lying") are skipped: a relational
    practitioner does not hand the citizen's hardest word back to them."""
    sentences = [x for x in re.split(r"[.!?…]", reply.strip()) if x.strip()] or [reply]
    swap = _SWAP[language]
    for sentence in sentences:
        if len(sentence.split()) < 3 and len(sentences) > 1:
            continue  # "Ja." or "Spørg." is not what a listener takes up
        out = []
        for w in sentence.split()[:max_words]:
            bare = w.strip(",;:»«\"'").lower()
            out.append(swap.get(bare, w.strip(",;:»«\"'")))
        echo = " ".join(out).strip()
        if echo and (scenario is None or not read_moves(echo, scenario).triggers):
            return echo
        if scenario is None:
            return echo or reply
    return NEUTRAL_ECHO[language]


def clean_examples(scenario: Scenario, topic_id: str) -> list[str]:
    """The topic's examples that contain no trigger (a relational practitioner's wording)."""
    topic = next(t for t in scenario.topics if t.id == topic_id)
    return [e for e in topic.examples if not read_moves(e, scenario).triggers] or []


class RelationalPractitioner:
    def __init__(
        self, scenario: Scenario, propose_at: int = 11, propose_early: bool = True
    ) -> None:
        self.scenario = scenario
        self.lang = scenario.language
        self.propose_at = propose_at
        self.propose_early = propose_early
        self.n = 0
        self._example_i: dict[str, int] = {}
        self._proposed_at: int | None = None

    def _target_topics(self, citizen: Citizen) -> list[str]:
        sc = self.scenario
        nxt = citizen.state.depth + 1
        if nxt <= 3 and sc.disclosure[nxt].unlock.topics:
            return list(sc.disclosure[nxt].unlock.topics)
        open_topics = [t.id for t in sc.topics if t.depth <= citizen.state.depth]
        return open_topics or [sc.topics[0].id]

    def _example(self, citizen: Citizen) -> str:
        targets = self._target_topics(citizen)
        tid = targets[self.n % len(targets)]
        examples = clean_examples(self.scenario, tid)
        if not examples:
            return ""
        i = self._example_i.get(tid, 0)
        self._example_i[tid] = i + 1
        return examples[i % len(examples)]

    def proposal(self) -> str:
        plan = self.scenario.acceptable_plans[0]
        return PROPOSE[self.lang].format(
            plan=plan.description.rstrip("."), keywords=", ".join(plan.keywords[:3])
        )

    def next_turn(self, citizen: Citizen) -> str:
        self.n += 1
        early = self.propose_early and citizen.state.depth >= 3 and self.n >= 6
        ready = self.n >= self.propose_at or early
        # a proposal that was not taken up is not repeated at once: listen a while first
        waited = self._proposed_at is None or self.n - self._proposed_at >= 3
        if ready and waited and citizen.state.accepted_plan is None:
            self._proposed_at = self.n
            return self.proposal()
        frames = RELATIONAL[self.lang]
        frame = frames[0] if self.n == 1 else frames[1 + (self.n - 2) % (len(frames) - 1)]
        example = self._example(citizen)
        echo = _echo(citizen.last_reply(), self.lang, scenario=self.scenario)
        text = " ".join(
            frame.format(name=self.scenario.persona.name, echo=echo, example=example).split()
        )
        if "{echo}" in frame and read_moves(text, self.scenario, citizen.last_reply()).triggers:
            # the echo reads as an accusation in the whole turn ("So you're saying when you
            # came out…"): a listener would take up the feeling, not those words
            neutral = NEUTRAL_ECHO[self.lang]
            text = " ".join(
                frame.format(name=self.scenario.persona.name, echo=neutral, example=example).split()
            )
        return text


class SystemPractitioner:
    def __init__(self, scenario: Scenario) -> None:
        self.lang = scenario.language
        self.n = 0

    def next_turn(self, citizen: Citizen) -> str:
        lines = SYSTEM[self.lang]
        text = lines[self.n % len(lines)]
        self.n += 1
        return text


class MixedPractitioner(RelationalPractitioner):
    """Mostly relational, with one system move (a line of :data:`SYSTEM`) at turn
    ``trigger_at``: the citizen should dip visibly and recover only slowly."""

    def __init__(
        self, scenario: Scenario, trigger_at: int = 5, system_line: int = 3, **kw: object
    ) -> None:
        super().__init__(scenario, **kw)  # type: ignore[arg-type]
        self.trigger_at = trigger_at
        self.system_line = system_line

    def next_turn(self, citizen: Citizen) -> str:
        if self.n + 1 == self.trigger_at:
            self.n += 1
            return SYSTEM[self.lang][self.system_line]
        return super().next_turn(citizen)
