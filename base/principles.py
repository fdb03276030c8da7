"""The seven relational-welfare principles, by id: shared by the rubric (coach) and the
scenario files (citizen), whose learning goals name them."""

from __future__ import annotations

PRINCIPLE_IDS: tuple[str, ...] = (
    "meet_where_they_are",
    "citizen_defines_problem",
    "citizen_shapes_solution",
    "stand_beside",
    "resources_first",
    "trust_not_suspicion",
    "person_not_case",
)
