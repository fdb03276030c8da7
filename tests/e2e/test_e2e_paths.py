"""The three user groups, end to end in a real browser (issue 6 §7):

1. sign in; 2. practise (3 turns); 3. read the report; 4. a supervisor comments;
5. the practitioner sees the comment; 6. an educator opens a class; 7. two students
join; 8. the dashboard updates (by itself, without a reload).

Streamlit marks every widget with a ``st-key-<key>`` class (non-alphanumerics become
``-``), so the tests find widgets by the keys the pages give them.
"""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LONG = 240_000  # ms: a reply, scoring or the first model load can be slow on a busy machine


def key(k: str) -> str:
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", k)


def idle(page, timeout: float = LONG) -> None:
    """Wait until the app has finished its current run: the "running" indicator has been
    gone for a while (it appears a moment after an interaction, not at once)."""
    page.wait_for_function(
        """() => {
            const busy = document.querySelector('[data-testid="stStatusWidget"]') !== null;
            const now = Date.now();
            if (busy || window.__e2eQuietSince === undefined) window.__e2eQuietSince = now;
            if (busy) return false;
            return now - window.__e2eQuietSince > 1500;
        }""",
        timeout=timeout,
        polling=250,
    )
    page.evaluate("() => { window.__e2eQuietSince = undefined; }")


def sign_in(page, username: str, password: str) -> None:
    page.locator(key("login.username")).locator("input").fill(username)
    page.locator(key("login.password")).locator("input").fill(password)
    page.locator(key("login.submit")).locator("button").click()
    page.locator(key("shell.sign_out")).wait_for(timeout=LONG)
    idle(page)


def nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    idle(page)


def messages(page) -> int:
    return page.locator('[data-testid="stChatMessage"]').count()


def say(page, input_key: str, text: str) -> None:
    """Type a turn, wait for it to be shown and for the citizen's reply to finish."""
    before = messages(page)
    box = page.locator(key(input_key)).locator("textarea")
    box.fill(text)
    box.press("Enter")
    page.locator('[data-testid="stChatMessage"]', has_text=text).first.wait_for(timeout=LONG)
    idle(page)
    assert messages(page) >= before + 2, f"no reply to {text!r}"


def text_of(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_practise_report_review_comment(new_page, shot, app_server) -> None:
    # 1. sign in
    pia = new_page("/")
    shot(pia, "01-sign-in")
    sign_in(pia, "pia", app_server.password)
    # 2. practise three turns, in a Danish scenario
    pia.locator(key("practise.filter")).get_by_text("Danish", exact=True).click()
    idle(pia)
    pia.locator(key("practise.start")).locator("button").click()
    pia.locator(key("practise.input")).wait_for(timeout=LONG)
    idle(pia)
    session_id = re.search(r"session=([0-9a-f]+)", pia.url).group(1)
    for line in (
        "Hej, jeg hedder Pia. Hvad er vigtigst for dig, at vi taler om i dag?",
        "Det lyder som om, det har været en hård tid. Fortæl mig mere, hvis du vil.",
        "Hvad har hjulpet dig før, når det har været svært?",
    ):
        say(pia, "practise.input", line)
    assert messages(pia) >= 7  # opening + 3 x (practitioner, citizen)
    shot(pia, "02-practise")
    # 3. end and read the report
    pia.locator(key("practise.end")).locator("button").click()
    pia.locator(key("practise.new")).wait_for(timeout=LONG)
    idle(pia)
    shot(pia, "03-report")
    assert "ended" in text_of(pia).lower()
    # share it with the supervisor (from the review page, as its owner)
    nav(pia, "Review")
    pia.locator(key(f"review.open.{session_id}")).locator("button").click()
    idle(pia)
    pia.locator(key(f"notes.share.{session_id}")).locator("button").click()
    idle(pia)
    assert "Sam Supervisor" in text_of(pia)

    # 4. the supervisor comments
    sam = new_page("/")
    sign_in(sam, "sam", app_server.password)
    nav(sam, "Review")
    sam.locator(key(f"review.open.{session_id}")).locator("button").click()
    idle(sam)
    comment = "Fint åbent spørgsmål i tur 2 – prøv at blive i det lidt længere."
    sam.locator(key("review.comment_text")).locator("textarea").fill(comment)
    sam.locator(key("review.comment_submit")).locator("button").click()
    idle(sam)
    assert comment in text_of(sam)
    shot(sam, "04-review-supervisor")

    # 5. the practitioner sees the comment
    nav(pia, "My sessions")
    nav(pia, "Review")
    pia.locator(key(f"review.open.{session_id}")).locator("button").click()
    idle(pia)
    assert comment in text_of(pia)
    shot(pia, "05-review-practitioner-sees-comment")

    # the supervisor searches "moments like this" in what the team shared (Chroma)
    nav(sam, "Moments like this")
    sam.locator(key("search.query")).locator("textarea").fill(
        "Hvad er det vigtigste for dig at tale om?"
    )
    sam.get_by_role("button", name="Search").click()
    sam.locator('[data-testid="stMain"]', has_text="Hvad er vigtigst for dig").first.wait_for(
        timeout=LONG
    )
    idle(sam)
    assert "Pia Practitioner" in text_of(sam) or "by Pia" in text_of(sam)
    shot(sam, "05b-search-supervisor")


def test_classroom_live_dashboard(new_page, shot, app_server) -> None:
    # 6. an educator opens a class
    edna = new_page("/")
    sign_in(edna, "edna", app_server.password)
    nav(edna, "Classroom")
    edna.locator(key("classroom.new_title")).locator("input").fill("Hold 3B – samtaletræning")
    edna.get_by_role("button", name="Open the class").click()
    idle(edna)
    code = edna.locator('[data-testid="class-code"]').inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code), code
    shot(edna, "06-class-opened")

    def metric(label: str) -> str:
        box = edna.locator('[data-testid="stMetric"]', has_text=label).first
        return box.locator('[data-testid="stMetricValue"]').inner_text().strip()

    assert metric("Joined") == "0"

    # 7. two students join through the link: one with just a name, one signed in
    students = []
    for name, consent in (("Sofie", True), ("Jonas", False)):
        st_page = new_page(f"/join?join={code}")
        st_page.locator(key("join.name")).locator("input").fill(name)
        if consent:
            st_page.locator(key("join.consent")).locator("label").click()
        st_page.get_by_role("button", name="Join").click()
        st_page.locator(key("join.input")).wait_for(timeout=LONG)
        idle(st_page)
        students.append(st_page)
    say(students[0], "join.input", "Hej, hvad vil du gerne have ud af i dag?")
    say(students[1], "join.input", "Hvad er vigtigst for dig lige nu?")
    say(students[1], "join.input", "Det lyder svært. Fortæl gerne mere.")
    shot(students[0], "07-student-joined")
    # one student ends and gets the coach's feedback: the score distribution fills in
    students[1].locator(key("join.end")).locator("button").click()
    students[1].wait_for_function(
        "document.body.innerText.includes('The conversation has ended')", timeout=LONG
    )
    idle(students[1])
    shot(students[1], "07b-student-feedback")

    # 8. the dashboard updates by itself (st.fragment(run_every=…)), no reload
    edna.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
             .some(m => m.innerText.includes('Joined') && m.innerText.trim().endsWith('2'))""",
        timeout=LONG,
    )
    edna.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
             .some(m => m.innerText.includes('Turns') && /\\b3$/.test(m.innerText.trim()))""",
        timeout=LONG,
    )
    edna.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
             .some(m => m.innerText.includes('Ended') && m.innerText.trim().endsWith('1'))""",
        timeout=LONG,
    )
    edna.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=LONG)
    edna.wait_for_timeout(1500)  # let the chart draw
    main = text_of(edna)
    assert "Sofie" not in main  # anonymised on the shared screen
    assert "Jonas" not in main
    shot(edna, "08-dashboard-live")
    # fishbowl: only the consenting student can be chosen; their conversation is projected
    class_id = re.search(r"class=([0-9a-f]+)", edna.url).group(1)
    edna.get_by_role("tab", name="Fishbowl").click()
    edna.locator(key(f"classroom.fishbowl.{class_id}")).click()
    options = edna.locator('[role="option"]')
    options.first.wait_for()
    assert options.count() == 2  # "Nobody" and the one consenting student
    options.nth(1).click()
    edna.wait_for_function(
        "document.body.innerText.includes('Hej, hvad vil du gerne have ud af i dag?')", timeout=LONG
    )
    idle(edna)
    shot(edna, "09-fishbowl")
    edna.get_by_role("tab", name="Debrief").click()
    edna.wait_for_timeout(1000)
    shot(edna, "10-debrief")
