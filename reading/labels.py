"""The label sets of the reading (see docs/reading-labels.md for their definitions)."""

from __future__ import annotations

BEHAVIOURS: tuple[str, ...] = (
    "open_question",
    "closed_question",
    "simple_reflection",
    "complex_reflection",
    "information",
    "advice",
    "negotiation",
    "options",
    "other",
)
MAIN_CLASS: dict[str, str] = {
    "open_question": "question",
    "closed_question": "question",
    "simple_reflection": "reflection",
    "complex_reflection": "reflection",
    "information": "therapist_input",
    "advice": "therapist_input",
    "negotiation": "therapist_input",
    "options": "therapist_input",
    "other": "other",
}
MAIN_ORDER: tuple[str, ...] = ("question", "reflection", "therapist_input", "other")

RELATIONAL_MOVES: tuple[str, ...] = (
    "asks_what_matters",
    "asks_strengths",
    "asks_network",
    "asks_permission",
    "reflects_feeling",
    "uses_own_words",
    "affirms",
    "transparency",
    "repair",
    "invites_solution",
    "proposes_plan",
    "offers_options",
)
SYSTEM_MOVES: tuple[str, ...] = (
    "directive",
    "sanction",
    "suspicion",
    "jargon",
    "labelling",
    "rushing",
)
MOVES: tuple[str, ...] = RELATIONAL_MOVES + SYSTEM_MOVES
SCOPES: tuple[str, ...] = ("negated", "quoted", "about_other")
UPTAKE_LEVELS: tuple[int, ...] = (0, 1, 2)
SETTINGS: tuple[str, ...] = (
    "jobcenter",
    "family",
    "psychiatry",
    "homelessness",
    "elderly",
    "debt",
    "integration",
    "leaving_care",
)
FAMILIES: tuple[str, ...] = (
    "negation",
    "empathic_must",
    "fear_not_sanction",
    "quote_to_reject",
    "about_other",
    "transparency",
    "apology",
    "keywordless_directive",
    "polite_threat",
    "wrapped_directive",
    "invitation_vs_proposal",
    "question_directive",
)
# the moves each minimal-pair family turns on (docs/reading-labels.md): a record of a family
# is read right when each of these moves is read right
FAMILY_FOCUS: dict[str, tuple[str, ...]] = {
    "negation": ("directive", "labelling", "sanction"),
    "empathic_must": ("directive",),
    "fear_not_sanction": ("sanction",),
    "quote_to_reject": ("labelling",),
    "about_other": ("labelling", "suspicion"),
    "transparency": ("transparency", "suspicion"),
    "apology": ("repair", "suspicion"),
    "keywordless_directive": ("directive",),
    "polite_threat": ("sanction",),
    "wrapped_directive": ("directive",),
    "invitation_vs_proposal": ("invites_solution", "proposes_plan"),
    "question_directive": ("directive",),
}
