"""The access rules, proved against the data layer (``practice.access`` and every service
built on it): practitioners see only their own sessions, supervisors only what was shared
with them, educators only their class's sessions, admins no one's transcripts."""

from __future__ import annotations

import pytest
from helpers_review import fast_hashing, make_class, make_session, make_user, services

from practice.access import AccessDenied, anonymise, anonymise_all, can_review, require_view
from practice.progress import ProgressService
from practice.review import ReviewError, ReviewService


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    fast_hashing(monkeypatch)


@pytest.fixture
def world():
    svc = services()
    sup = make_user(svc, "sofie", "supervisor")
    other_sup = make_user(svc, "otto", "supervisor")
    anna = make_user(svc, "anna", supervisor=sup)
    bo = make_user(svc, "bo", supervisor=sup)
    edu = make_user(svc, "eva", "educator")
    other_edu = make_user(svc, "erik", "educator")
    admin = make_user(svc, "ida", "admin")
    klass = make_class(svc, edu)
    w = {
        "svc": svc,
        "sup": sup,
        "other_sup": other_sup,
        "anna": anna,
        "bo": bo,
        "edu": edu,
        "other_edu": other_edu,
        "admin": admin,
        "class": klass,
        "anna_s": make_session(svc, anna),
        "bo_s": make_session(svc, bo),
        "class_s": make_session(svc, bo, class_id=klass),
    }
    yield w
    svc.db.dispose()


def ids(svc, viewer) -> set[str]:
    return {i.id for i in svc.practice.list_sessions(viewer)}


def test_practitioner_access_only_own_sessions(world) -> None:
    svc = world["svc"]
    assert ids(svc, world["anna"]) == {world["anna_s"]}
    assert ids(svc, world["bo"]) == {world["bo_s"], world["class_s"]}
    assert svc.practice.view(world["anna"], world["anna_s"]).info.owner == world["anna"].id


def test_practitioner_cannot_see_a_colleagues_session(world) -> None:
    svc, reviews = world["svc"], ReviewService(world["svc"].db)
    with pytest.raises(AccessDenied):
        svc.practice.view(world["anna"], world["bo_s"])
    with pytest.raises(AccessDenied):
        reviews.comments(world["anna"], world["bo_s"])
    with pytest.raises(AccessDenied):
        reviews.add_comment(world["anna"], world["bo_s"], "Hej")
    with pytest.raises(AccessDenied):
        ProgressService(svc.db).compare(world["anna"], world["anna_s"], world["bo_s"])
    # the message is the same as for a session that does not exist: no probing
    with pytest.raises(AccessDenied) as missing, svc.db.Session() as s:
        require_view(s, world["anna"], "0" * 32)
    with pytest.raises(AccessDenied) as hidden, svc.db.Session() as s:
        require_view(s, world["anna"], world["bo_s"])
    assert str(missing.value) == str(hidden.value)


def test_supervisor_cannot_see_unshared_sessions_of_their_own_team(world) -> None:
    svc = world["svc"]
    assert ids(svc, world["sup"]) == set()
    with pytest.raises(AccessDenied):
        svc.practice.view(world["sup"], world["anna_s"])
    assert ReviewService(svc.db).queue(world["sup"]) == []


def test_supervisor_access_after_sharing_only_to_them(world) -> None:
    svc, reviews = world["svc"], ReviewService(world["svc"].db)
    target = reviews.share(world["anna"], world["anna_s"])  # default: her own supervisor
    assert target.id == world["sup"].id
    assert ids(svc, world["sup"]) == {world["anna_s"]}
    assert [i.session_id for i in reviews.queue(world["sup"])] == [world["anna_s"]]
    assert svc.practice.view(world["sup"], world["anna_s"]).turns
    # another supervisor still sees nothing
    assert ids(svc, world["other_sup"]) == set()
    with pytest.raises(AccessDenied):
        svc.practice.view(world["other_sup"], world["anna_s"])
    # unsharing takes it away again
    reviews.unshare(world["anna"], world["anna_s"], world["sup"].id)
    with pytest.raises(AccessDenied):
        svc.practice.view(world["sup"], world["anna_s"])


def test_sharing_permission_rules(world) -> None:
    reviews = ReviewService(world["svc"].db)
    with pytest.raises(AccessDenied):  # only the owner shares
        reviews.share(world["bo"], world["anna_s"], world["sup"].id)
    with pytest.raises(AccessDenied):  # a supervisor cannot share it on
        reviews.share(world["sup"], world["anna_s"], world["other_sup"].id)
    with pytest.raises(ReviewError) as not_sup:  # only with a supervisor account
        reviews.share(world["anna"], world["anna_s"], world["bo"].id)
    assert not_sup.value.code == "not_a_supervisor"
    lone = make_user(world["svc"], "lone")
    lone_s = make_session(world["svc"], lone)
    with pytest.raises(ReviewError) as none:
        reviews.share(lone, lone_s)
    assert none.value.code == "no_supervisor"


def test_supervisor_write_permission_only_when_shared(world) -> None:
    svc, reviews = world["svc"], ReviewService(world["svc"].db)
    with pytest.raises(AccessDenied):
        reviews.add_comment(world["sup"], world["anna_s"], "Godt spørgsmål", turn_idx=1)
    with pytest.raises(AccessDenied):
        reviews.assess(world["sup"], world["anna_s"], "stand_beside", 3, "fordi")
    reviews.share(world["anna"], world["anna_s"])
    reviews.add_comment(world["sup"], world["anna_s"], "Godt spørgsmål", turn_idx=1)
    # the owner may read but not write reviews of their own session
    with pytest.raises(AccessDenied):
        reviews.add_comment(world["anna"], world["anna_s"], "Jeg er enig med mig selv")
    with pytest.raises(AccessDenied):
        reviews.assess(world["anna"], world["anna_s"], "stand_beside", 5, "jeg var god")
    assert [c.text for c in reviews.comments(world["anna"], world["anna_s"])] == ["Godt spørgsmål"]
    with svc.db.Session() as s:
        assert can_review(s, world["sup"], world["anna_s"])
        assert not can_review(s, world["other_sup"], world["anna_s"])


def test_educator_access_only_their_class(world) -> None:
    svc = world["svc"]
    assert ids(svc, world["edu"]) == {world["class_s"]}
    with pytest.raises(AccessDenied):  # the same student's session outside the class
        svc.practice.view(world["edu"], world["bo_s"])
    assert ids(svc, world["other_edu"]) == set()
    with pytest.raises(AccessDenied):
        svc.practice.view(world["other_edu"], world["class_s"])
    reviews = ReviewService(svc.db)
    assert [i.session_id for i in reviews.queue(world["edu"])] == [world["class_s"]]
    reviews.add_comment(world["edu"], world["class_s"], "Se replik 3")
    with pytest.raises(AccessDenied):
        reviews.add_comment(world["other_edu"], world["class_s"], "Hej")


def test_admin_cannot_see_anyones_transcripts(world) -> None:
    svc = world["svc"]
    assert ids(svc, world["admin"]) == set()
    for sid in (world["anna_s"], world["bo_s"], world["class_s"]):
        with pytest.raises(AccessDenied):
            svc.practice.view(world["admin"], sid)
    assert ReviewService(svc.db).queue(world["admin"]) == []


def test_progress_counts_only_own_sessions_access(world) -> None:
    svc, reviews = world["svc"], ReviewService(world["svc"].db)
    reviews.share(world["anna"], world["anna_s"])
    progress = ProgressService(svc.db)
    assert {p.session_id for p in progress.history(world["sup"])} == set()
    assert {p.session_id for p in progress.history(world["anna"])} == {world["anna_s"]}
    with pytest.raises(AccessDenied):
        progress.family(world["sup"], world["anna_s"])


def test_agreement_counts_only_sessions_the_viewer_may_see(world) -> None:
    _svc, reviews = world["svc"], ReviewService(world["svc"].db)
    reviews.share(world["anna"], world["anna_s"])
    reviews.confirm_coach(world["sup"], world["anna_s"])
    reviews.assess(world["edu"], world["class_s"], "stand_beside", 5, "stod tydeligt ved siden af")
    sup_rows = {r.principle_id for r in reviews.agreement(world["sup"]) if r.period == "all"}
    assert sup_rows == {"meet_where_they_are", "stand_beside", "trust_not_suspicion"}
    assert all(r.agree == r.n for r in reviews.agreement(world["sup"]))
    edu_rows = [r for r in reviews.agreement(world["edu"]) if r.period == "all"]
    assert [(r.principle_id, r.n, r.agree) for r in edu_rows] == [("stand_beside", 1, 0)]
    with pytest.raises(AccessDenied):
        reviews.agreement(world["anna"])
    assert sum(r.n for r in reviews.agreement(world["admin"]) if r.period == "all") == 4


def test_anonymise_is_stable_salted_and_collision_free() -> None:
    assert anonymise("Mette Hansen", "class-1") == anonymise("mette hansen ", "class-1")
    assert anonymise("Mette Hansen", "class-1").startswith("Student ")
    names = [f"Student navn {i}" for i in range(60)]
    per_class = [anonymise(n, "class-1") for n in names]
    assert per_class != [anonymise(n, "class-2") for n in names]
    mapping = anonymise_all(names, "class-1", label="Elev")
    assert len(set(mapping.values())) == len(names)
    assert all(v.startswith("Elev ") and "navn" not in v for v in mapping.values())
    assert mapping == anonymise_all(list(reversed(names)), "class-1", label="Elev")
