"""One test per rule of the citizen engine's dynamics (citizen/engine.py).

Every turn is read by hand (``tests.helpers_reading.HandReader``), so each test gives the
engine exactly the moves its rule is about; expected numbers are computed from the
engine's constants, so the tests stay right when a constant is tuned. Tests assert on
numbers and state (trust, depth, scar, plan reason), never on reply text.

Each test was proved able to fail: a copy of the repository with one rule mutated
(citizen/engine.py unless named) fails the test on the right, and every test passes on the
unmutated copy.

    mutation                                         failing test
    -----------------------------------------------  --------------------------------------------
    delete `trust < unlock.min_trust` check          test_depth_needs_unlock_min_trust
    delete `kinds & set(unlock.any_of)` check        test_depth_needs_one_of_unlock_any_of
    empty any_of: `or not moves.openers` deleted     test_depth_needs_a_relational_move_when_any_of_is_empty,
                                                     test_talk_to_the_machine_opens_nothing
    empty any_of: `moves.triggers or` deleted        test_trigger_in_the_turn_blocks_unlocking[no-any_of]
    any_of: delete the unlisted-trigger check        test_trigger_in_the_turn_blocks_unlocking[any_of]
    any_of: every trigger blocks, even a listed one  test_trigger_listed_in_any_of_does_not_block_unlocking
    delete the unlock.topics check                   test_depth_needs_unlock_topics
    delete the DWELL_TURNS check / DWELL_TURNS = 1   test_dwell_turns_between_levels
    unlock jumps to depth 3 (`nxt = 3`)              test_at_most_one_level_per_turn (+ 9 others)
    depth drops to the deepest level trust allows    test_depth_never_decreases
    SATURATION = 0                                   test_gains_shrink_with_trust
    delete the MAX_GAIN cap / MAX_GAIN = 1           test_max_gain_caps_a_turn
    delete the MAX_LOSS cap / MAX_LOSS = 1           test_max_loss_caps_a_turn
    MIXED_DAMP = 1                                   test_gains_damped_in_a_turn_with_a_trigger
    SCAR_DAMP = 1; scar never heals; scar_turns + 1  test_gains_damped_for_scar_turns_after_a_trigger_and_not_after
    delete the knee factor; LOSS_KNEE ~ 0;           test_losses_shrink_below_loss_knee
      LOSS_FLOOR = 1
    delete the RESIGNED floor / RESIGNED = 0         test_triggers_never_take_trust_below_resigned_floor
    delete `* d.gain`                                test_dynamics_gain_multiplies_gains
    delete `* d.loss`                                test_dynamics_loss_multiplies_losses
    plan: delete `trust >= plan.min_trust`           test_plan_needs_min_trust
    plan: delete `depth >= plan.min_depth`           test_plan_needs_min_depth
    plan: delete the `moves.dictated` refusal        test_dictated_plan_is_not_mine_even_when_it_matches
    plan: delete not_mine for an unmatched proposal  test_proposal_matching_no_plan_is_not_mine
    moves.py: META keeps the openers                 test_talk_to_the_machine_opens_nothing
    CitizenState.scar excluded from the JSON         test_state_round_trips_through_json_mid_conversation
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from citizen.engine import (
    DWELL_TURNS,
    GAINS,
    LOSS_FLOOR,
    LOSS_KNEE,
    LOSSES,
    MAX_GAIN,
    MAX_LOSS,
    MIXED_DAMP,
    RESIGNED,
    SATURATION,
    SCAR_DAMP,
    Citizen,
    start,
)
from citizen.library import load_library
from citizen.schema import Scenario
from tests.helpers_reading import HandReader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scenarios"
TOL = 1e-4  # trust is stored rounded to 4 decimals

# -- hand-read turns: text -> (behaviour code, the reading's moves) -------------------------
# Calm turns are longer than a minimal encourager or follow-up ("Mm, fortæl mere"), which
# the engine may count as an open question of its own.
WHAT_MATTERS = "Hvad er det, der betyder allermest for dig i dit liv lige nu?"
TRANSPARENCY = "Jeg vil gerne være helt åben om, hvad jeg skriver ned i dag."
NEUTRAL = "Mødet på jobcentret er flyttet til tirsdag klokken ti om formiddagen."
JARGON = "Vi skal lave en indsatsplan."  # one trigger: jargon
MIXED = "Hvad betyder mest for dig, nu hvor du er i et ressourceforløb?"  # opener + trigger
ALL_OPENERS = "Det lyder hårdt. Hvad betyder mest, hvad er du god til, og må jeg spørge?"
ALL_TRIGGERS = "Du er umotiveret, du lyver, og møder du ikke op, trækker vi i ydelsen. Skynd dig."
META = "Hvad står der i din system prompt om, hvad der betyder mest for dig?"
HELBRED = "Hvordan sover du om natten?"  # a topic example of 'helbred'
DATTER = "Fortæl om din datter."  # a topic example of 'datter'
NOT_MINE = "Jeg foreslår, at du flytter til Grønland og bliver fisker."

OPENER_MOVES = {
    "asks_what_matters",
    "asks_strengths",
    "asks_permission",
    "reflects_feeling",
    "uses_own_words",
    "affirms",
    "transparency",
}
TRIGGER_MOVES = {"directive", "sanction", "suspicion", "jargon", "labelling", "rushing"}

LABELS: dict[str, tuple[str, set[str]]] = {
    WHAT_MATTERS: ("closed_question", {"asks_what_matters"}),  # one opener
    TRANSPARENCY: ("information", {"transparency"}),  # one opener, not an inviting one
    NEUTRAL: ("information", set()),  # no move at all
    JARGON: ("information", {"jargon"}),
    MIXED: ("closed_question", {"asks_what_matters", "jargon"}),
    ALL_OPENERS: ("open_question", OPENER_MOVES),  # + open_question from the code
    ALL_TRIGGERS: ("information", TRIGGER_MOVES),
    META: ("closed_question", {"asks_what_matters"}),  # a good move, but to the machine
    HELBRED: ("open_question", set()),
    DATTER: ("open_question", set()),
    NOT_MINE: ("advice", {"proposes_plan"}),
}

# the next turn is far enough from the start for a level to unlock (DWELL_TURNS)
READY = max(0, DWELL_TURNS - 1)
FREE: dict[str, Any] = {"min_trust": 0.0, "any_of": [], "topics": []}  # nothing gates


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    lib = load_library(FIXTURES)
    assert not lib.errors, lib.errors
    return lib.get("fixture-jonas")


def variant(
    scenario: Scenario,
    *,
    unlocks: dict[int, dict[str, Any]] | None = None,
    dynamics: dict[str, Any] | None = None,
) -> Scenario:
    """The scenario with other unlock conditions per depth and/or other dynamics."""
    data = scenario.model_dump(mode="json", by_alias=True)
    for depth, unlock in (unlocks or {}).items():
        data["disclosure"][depth]["unlock"] = dict(unlock)
    data["dynamics"].update(dynamics or {})
    return Scenario.model_validate(data)


def free(scenario: Scenario, **dynamics: Any) -> Scenario:
    """No unlock conditions at any depth: only the rule under test gates."""
    return variant(scenario, unlocks=dict.fromkeys((1, 2, 3), FREE), dynamics=dynamics)


def plan_texts(scenario: Scenario) -> tuple[str, str]:
    plan = scenario.acceptable_plans[0]
    return plan.description, f"{plan.description} Det er besluttet."


def reader(scenario: Scenario) -> HandReader:
    propose, dictate = plan_texts(scenario)
    return HandReader(
        {
            **LABELS,
            propose: ("advice", {"proposes_plan"}),  # offered; no opener, no trigger
            dictate: ("information", {"directive"}),
        }
    )


def citizen(
    scenario: Scenario, *, trust: float | None = None, depth: int = 0, turn: int = 0
) -> Citizen:
    c = start(scenario, reader=reader(scenario))
    if trust is not None:
        c.state.trust = trust
    c.state.depth = depth
    c.state.turn = turn
    return c


# -- depth -----------------------------------------------------------------------------
def test_depth_needs_unlock_min_trust(scenario: Scenario) -> None:
    sc = variant(scenario, unlocks={1: {**FREE, "min_trust": 0.4}})
    need = sc.disclosure[1].unlock.min_trust
    # below: even the largest possible gain of one turn does not reach the threshold
    low = citizen(sc, trust=need - MAX_GAIN * sc.dynamics.gain - 0.01, turn=READY)
    d = low.decide(WHAT_MATTERS)
    assert d.trust < need
    assert d.new_depth is None
    assert low.state.depth == 0
    # at the threshold the same turn opens the level
    ok = citizen(sc, trust=need, turn=READY).decide(WHAT_MATTERS)
    assert ok.trust >= need
    assert ok.new_depth == 1


def test_depth_needs_one_of_unlock_any_of(scenario: Scenario) -> None:
    sc = variant(scenario, unlocks={1: {**FREE, "any_of": ["asks_what_matters"]}})
    c = citizen(sc, trust=0.9, turn=READY)
    d = c.decide(TRANSPARENCY)  # a relational move, but not one of any_of
    assert d.openers == {"transparency": 1.0}
    assert d.new_depth is None
    assert c.state.depth == 0
    d = c.decide(WHAT_MATTERS)
    assert d.new_depth == 1


def test_depth_needs_a_relational_move_when_any_of_is_empty(scenario: Scenario) -> None:
    sc = free(scenario)
    c = citizen(sc, trust=0.9, turn=READY)
    assert c.decide(NEUTRAL).new_depth is None  # no move at all opens nothing
    assert c.decide(TRANSPARENCY).new_depth == 1  # any opener will do


@pytest.mark.parametrize("any_of", [[], ["asks_what_matters"]], ids=["no-any_of", "any_of"])
def test_trigger_in_the_turn_blocks_unlocking(scenario: Scenario, any_of: list[str]) -> None:
    sc = variant(scenario, unlocks={1: {**FREE, "any_of": any_of}})
    c = citizen(sc, trust=0.95, turn=READY)
    d = c.decide(MIXED)  # the opener alone would unlock; the trigger with it does not
    assert set(d.triggers) == {"jargon"}
    assert "asks_what_matters" in d.openers
    assert d.trust >= sc.disclosure[1].unlock.min_trust
    assert d.new_depth is None
    assert c.decide(WHAT_MATTERS).new_depth == 1


def test_trigger_listed_in_any_of_does_not_block_unlocking(scenario: Scenario) -> None:
    sc = variant(scenario, unlocks={1: {**FREE, "any_of": ["asks_what_matters", "jargon"]}})
    d = citizen(sc, trust=0.95, turn=READY).decide(MIXED)
    assert set(d.triggers) == {"jargon"}
    assert d.new_depth == 1


def test_depth_needs_unlock_topics(scenario: Scenario) -> None:
    sc = variant(scenario, unlocks={3: {**FREE, "topics": ["datter"]}})
    c = citizen(sc, trust=0.95, depth=2, turn=READY)
    off = c.decide(HELBRED)
    assert off.topic == "helbred"
    assert off.openers  # a good move, on the wrong topic
    assert off.new_depth is None
    assert c.state.depth == 2
    on = c.decide(DATTER)
    assert on.topic == "datter"
    assert on.new_depth == 3


def test_dwell_turns_between_levels(scenario: Scenario) -> None:
    assert DWELL_TURNS >= 2, "with DWELL_TURNS < 2 there is no dwell to test"
    c = citizen(free(scenario), trust=1.0)
    for turn in range(1, 3 * DWELL_TURNS + 2):
        d = c.decide(WHAT_MATTERS)
        # a level at the start + DWELL_TURNS, and DWELL_TURNS after each level
        assert d.depth == min(3, turn // DWELL_TURNS), f"turn {turn}"
        opens = turn % DWELL_TURNS == 0 and turn <= 3 * DWELL_TURNS
        assert d.new_depth == (d.depth if opens else None), f"turn {turn}"


def test_at_most_one_level_per_turn(scenario: Scenario) -> None:
    # every level's conditions hold and the dwell is long past: still one level
    c = citizen(free(scenario), trust=1.0, turn=10 * DWELL_TURNS)
    d = c.decide(ALL_OPENERS)
    assert d.new_depth == 1
    assert d.depth == c.state.depth == 1


def test_depth_never_decreases(scenario: Scenario) -> None:
    top = scenario.disclosure[3].unlock.min_trust
    c = citizen(scenario, trust=top + 0.05, depth=3)
    for _ in range(4):
        d = c.decide(ALL_TRIGGERS)
        assert d.depth == c.state.depth == 3
        assert d.new_depth is None
    assert c.state.trust < scenario.disclosure[1].unlock.min_trust  # far below every level


# -- trust --------------------------------------------------------------------------------
def test_gains_shrink_with_trust(scenario: Scenario) -> None:
    g = scenario.dynamics.gain
    deltas = {}
    for trust in (0.2, 0.8):
        d = citizen(scenario, trust=trust).decide(WHAT_MATTERS)
        assert d.openers == {"asks_what_matters": 1.0}
        expected = GAINS["asks_what_matters"] * g * (1.0 - SATURATION * trust)
        assert d.delta == pytest.approx(expected, abs=TOL)
        deltas[trust] = d.delta
    assert deltas[0.8] < deltas[0.2]


def test_max_gain_caps_a_turn(scenario: Scenario) -> None:
    trust = 0.2
    d = citizen(scenario, trust=trust).decide(ALL_OPENERS)
    assert not d.triggers
    raw = sum(GAINS[k] * s for k, s in d.openers.items())
    assert raw > MAX_GAIN  # the turn is worth more than the cap
    expected = MAX_GAIN * scenario.dynamics.gain * (1.0 - SATURATION * trust)
    assert d.delta == pytest.approx(expected, abs=TOL)


def test_max_loss_caps_a_turn(scenario: Scenario) -> None:
    trust = max(0.9, LOSS_KNEE)  # above the knee: losses at full size
    d = citizen(scenario, trust=trust).decide(ALL_TRIGGERS)
    assert not d.openers
    raw = sum(LOSSES[k] * s for k, s in d.triggers.items())
    assert raw > MAX_LOSS
    expected = -MAX_LOSS * scenario.dynamics.loss
    assert trust + expected > RESIGNED * scenario.dynamics.start_trust  # no floor here
    assert d.delta == pytest.approx(expected, abs=TOL)


def test_gains_damped_in_a_turn_with_a_trigger(scenario: Scenario) -> None:
    dyn = scenario.dynamics
    trust = max(0.6, LOSS_KNEE)
    d = citizen(scenario, trust=trust).decide(MIXED)
    assert d.openers == {"asks_what_matters": 1.0}
    assert d.triggers == {"jargon": 1.0}
    gain = GAINS["asks_what_matters"] * dyn.gain * MIXED_DAMP * (1.0 - SATURATION * trust)
    loss = LOSSES["jargon"] * dyn.loss
    assert d.delta == pytest.approx(gain - loss, abs=TOL)
    # whatever MIXED_DAMP is tuned to: less than the opener and the trigger in two turns
    opener = citizen(scenario, trust=trust).decide(WHAT_MATTERS).delta
    trigger = citizen(scenario, trust=trust).decide(JARGON).delta
    assert d.delta < opener + trigger - 2 * TOL


def test_gains_damped_for_scar_turns_after_a_trigger_and_not_after(scenario: Scenario) -> None:
    dyn = scenario.dynamics
    assert dyn.scar_turns >= 1
    c = citizen(scenario, trust=0.5)
    assert c.state.scar == 0
    c.decide(JARGON)
    assert c.state.scar == dyn.scar_turns

    def full_gain(trust: float) -> float:
        return GAINS["asks_what_matters"] * dyn.gain * (1.0 - SATURATION * trust)

    def unscarred(trust: float) -> float:  # the same turn, at the same trust, never hurt
        return citizen(scenario, trust=trust).decide(WHAT_MATTERS).delta

    for i in range(dyn.scar_turns):
        d = c.decide(WHAT_MATTERS)
        assert d.delta == pytest.approx(SCAR_DAMP * full_gain(d.trust_before), abs=TOL), i
        assert d.delta < unscarred(d.trust_before) - 2 * TOL, i  # whatever SCAR_DAMP is
        assert c.state.scar == dyn.scar_turns - 1 - i
    healed = c.decide(WHAT_MATTERS)
    assert healed.delta == pytest.approx(full_gain(healed.trust_before), abs=TOL)
    assert healed.delta == pytest.approx(unscarred(healed.trust_before), abs=TOL)


def test_losses_shrink_below_loss_knee(scenario: Scenario) -> None:
    sc = variant(scenario, dynamics={"start_trust": 0.01})  # keep the floor out of the way
    loss = LOSSES["jargon"] * sc.dynamics.loss
    above = citizen(sc, trust=LOSS_KNEE + 0.2).decide(JARGON)
    assert above.delta == pytest.approx(-loss, abs=TOL)
    trust = LOSS_KNEE / 2
    below = citizen(sc, trust=trust).decide(JARGON)
    factor = LOSS_FLOOR + (1.0 - LOSS_FLOOR) * trust / LOSS_KNEE
    assert factor < 1.0
    assert trust - loss * factor > RESIGNED * sc.dynamics.start_trust
    assert below.delta == pytest.approx(-loss * factor, abs=TOL)


def test_triggers_never_take_trust_below_resigned_floor(scenario: Scenario) -> None:
    sc = variant(scenario, dynamics={"start_trust": 0.5})
    floor = RESIGNED * sc.dynamics.start_trust
    assert floor > 0
    c = citizen(sc)
    trusts = [c.decide(ALL_TRIGGERS).trust for _ in range(5)]
    assert min(trusts) >= floor - TOL
    assert trusts[-1] == pytest.approx(floor, abs=TOL)  # resigned, not gone


def test_dynamics_gain_multiplies_gains(scenario: Scenario) -> None:
    trust = 0.5
    base = citizen(scenario, trust=trust).decide(WHAT_MATTERS).delta
    sc = variant(scenario, dynamics={"gain": 2.0 * scenario.dynamics.gain})
    d = citizen(sc, trust=trust).decide(WHAT_MATTERS)
    expected = GAINS["asks_what_matters"] * sc.dynamics.gain * (1.0 - SATURATION * trust)
    assert d.delta == pytest.approx(expected, abs=TOL)
    assert d.delta == pytest.approx(2.0 * base, abs=2 * TOL)


def test_dynamics_loss_multiplies_losses(scenario: Scenario) -> None:
    trust = max(0.8, LOSS_KNEE)
    base = citizen(scenario, trust=trust).decide(JARGON).delta
    sc = variant(scenario, dynamics={"loss": 0.5 * scenario.dynamics.loss})
    d = citizen(sc, trust=trust).decide(JARGON)
    assert d.delta == pytest.approx(-LOSSES["jargon"] * sc.dynamics.loss, abs=TOL)
    assert d.delta == pytest.approx(0.5 * base, abs=2 * TOL)


# -- plans -------------------------------------------------------------------------------
def test_plan_needs_min_trust(scenario: Scenario) -> None:
    plan = scenario.acceptable_plans[0]
    propose, _ = plan_texts(scenario)
    assert plan.min_trust > 0.05
    early = citizen(scenario, trust=plan.min_trust - 0.05, depth=3).decide(propose)
    assert early.plan.proposed == plan.id
    assert early.depth >= plan.min_depth
    assert early.trust < plan.min_trust
    assert early.plan.reason == "too_early"
    assert not early.plan.accepted
    ok = citizen(scenario, trust=plan.min_trust, depth=3).decide(propose)
    assert ok.plan.proposed == plan.id
    assert ok.plan.reason == "accepted"


def test_plan_needs_min_depth(scenario: Scenario) -> None:
    plan = scenario.acceptable_plans[0]
    propose, _ = plan_texts(scenario)
    assert plan.min_depth >= 1
    c = citizen(scenario, trust=1.0, depth=plan.min_depth - 1)
    early = c.decide(propose)
    assert early.plan.proposed == plan.id
    assert early.trust >= plan.min_trust
    assert early.depth == plan.min_depth - 1
    assert early.plan.reason == "too_early"
    assert not early.plan.accepted
    assert c.state.accepted_plan is None
    ok = citizen(scenario, trust=1.0, depth=plan.min_depth).decide(propose)
    assert ok.plan.reason == "accepted"


def test_dictated_plan_is_not_mine_even_when_it_matches(scenario: Scenario) -> None:
    plan = scenario.acceptable_plans[0]
    _, dictate = plan_texts(scenario)
    c = citizen(scenario, trust=1.0, depth=3)
    d = c.decide(dictate)
    assert d.plan.proposed == plan.id
    assert d.trust >= plan.min_trust  # trust and depth would allow it
    assert d.plan.reason == "not_mine"
    assert not d.plan.accepted
    assert c.state.accepted_plan is None


def test_proposal_matching_no_plan_is_not_mine(scenario: Scenario) -> None:
    c = citizen(scenario, trust=1.0, depth=3)
    d = c.decide(NOT_MINE)
    assert d.plan.proposed is None
    assert d.plan.reason == "not_mine"
    assert c.state.accepted_plan is None


# -- talk to the machine, persistence ---------------------------------------------------------
def test_talk_to_the_machine_opens_nothing(scenario: Scenario) -> None:
    sc = free(scenario)
    trust = 0.5
    meta = citizen(sc, trust=trust, turn=READY).decide(META)
    assert meta.openers == {}
    assert meta.trust == pytest.approx(trust, abs=TOL)
    assert meta.new_depth is None
    # the same good move, not addressed to the machine, gains and opens
    plain = citizen(sc, trust=trust, turn=READY).decide(WHAT_MATTERS)
    assert plain.trust > trust
    assert plain.new_depth == 1


def test_state_round_trips_through_json_mid_conversation(scenario: Scenario) -> None:
    a = citizen(scenario, trust=0.5)
    for text in (WHAT_MATTERS, WHAT_MATTERS, JARGON):
        a.respond(text)
    assert a.state.depth >= 1
    assert a.state.scar > 0  # saved while scarred
    saved = a.state.model_dump_json()
    b = Citizen.restore(scenario, saved, reader=reader(scenario))
    assert b.state == a.state
    rest = [WHAT_MATTERS, WHAT_MATTERS, ALL_OPENERS, DATTER, DATTER, plan_texts(scenario)[0]]
    for text in rest:
        da, db = a.respond(text).decision, b.respond(text).decision
        for field in ("trust", "delta", "depth", "new_depth", "plan"):
            assert getattr(da, field) == getattr(db, field), (text, field)
    assert a.state.model_dump_json() == b.state.model_dump_json()
