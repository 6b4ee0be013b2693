"""The console as a person uses it, in a real browser (Debian's Chromium via Playwright).

A reviewer logs in, filters the queue, clears a queue of mixed cases with the
keyboard and the mouse (a bulk decision for three copies, a second opinion, an
exemption), sees the webhooks delivered exactly once although the receiver
refuses every first attempt, reverses a decision on appeal (history kept, a
statement of reasons written), and an admin checks that the audit log verifies
and then notices tampering.

``make screenshots`` runs this module with ``WARDING_SCREENSHOTS=docs/console`` and
keeps the pictures used in docs/console.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests import review_scenario as rs
from tests.browser import CHROMIUM_ARGS, WebhookReceiver, chromium_path, screenshot_dir, serve
from tests.cli_helpers import CLI
from warding.app import Warding
from warding.db.models import Action, AuditEvent, Case, Decision

pytestmark = pytest.mark.browser

SECRET = "whsec_YnJvd3Nlci10ZXN0LXNlY3JldC0tLS0tLS0tLS0tLS0="


def _playwright() -> Any:
    try:
        from playwright import sync_api
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed: pip install -e '.[test]'")
        pytest.skip("playwright is not installed")
    return sync_api


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    sync_api = _playwright()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(SECRET, fail_first=1)
    yield r
    r.close()


@pytest.fixture
def live(app_factory: Callable[..., Warding], receiver: WebhookReceiver,
         tmp_path: Path) -> Iterator[tuple[Warding, rs.Scenario, str]]:
    w = app_factory(webhook_url=receiver.url, webhook_secret=SECRET,
                    action_sinks=["log", "webhook", "add_to_bank", "notify_uploader"],
                    action_retry_base_seconds=0.3, action_worker_interval=0.2,
                    notice_redress_url="https://platform.example.org/appeal")
    rs.users(w)
    scenario = rs.build(w, tmp_path / "inputs")
    with serve(w) as base:
        yield w, scenario, base


class Shots:
    def __init__(self) -> None:
        self.dir = screenshot_dir()

    def take(self, page: Any, name: str, full_page: bool = True) -> None:
        if self.dir is not None:
            page.screenshot(path=str(self.dir / f"{name}.png"), full_page=full_page)


def login(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", rs.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


def case_id_of(page: Any) -> int:
    m = re.search(r"/cases/(\d+)$", page.url)
    assert m, page.url
    return int(m.group(1))


def computed_filter(page: Any, selector: str) -> str:
    return str(page.eval_on_selector(selector, "e => getComputedStyle(e).filter"))


def test_reviewer_clears_a_mixed_queue(browser: Any, live: tuple[Warding, rs.Scenario, str],
                                       receiver: WebhookReceiver) -> None:
    expect = _playwright().expect
    w, sc, base = live
    ids = sc.cases
    shots = Shots()
    page = login(browser, base, "rev1")

    # -- filter the queue ---------------------------------------------------------
    rows = page.locator("tr.queue-row")
    expect(rows).to_have_count(7)
    page.select_option("select[name=reason]", "classifier")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-case", str(ids["classified"]))
    page.select_option("select[name=reason]", "")
    page.fill("input[name=lang]", "fr")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-case", str(ids["link-fr"]))
    page.fill("input[name=lang]", "")
    page.select_option("select[name=category]", "incitement_glorification")
    page.select_option("select[name=order]", "severity")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(4)  # three exact copies and the altered copy of the image
    page.goto("/?status=open&order=deadline")
    expect(rows).to_have_count(7)
    expect(page.locator("tr.queue-row .copies").first).to_contain_text("+2 copies")
    page.keyboard.press("j")
    expect(rows.first).to_have_class(re.compile("selected"))
    shots.take(page, "queue")

    # -- start reviewing: "n" claims the most urgent case --------------------------
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    assert case_id_of(page) == ids["img-1"]
    expect(page.locator("#claimed-by")).to_have_text("rev1")

    # The image is blurred and grey until revealed, one click at a time.
    img = "img.media"
    assert "blur(" in computed_filter(page, img) and "grayscale(1)" in computed_filter(page, img)
    shots.take(page, "case-blurred", full_page=False)
    page.click(img)
    assert computed_filter(page, img) == "none"
    page.keyboard.press("r")  # hide everything again
    assert "blur(" in computed_filter(page, img)

    # Bulk decision with the keyboard: the two other copies are ticked already.
    expect(page.locator("#copies input[type=checkbox]:checked")).to_have_count(2)
    page.keyboard.press("v")
    page.keyboard.press("1")
    assert page.input_value("#category") == "incitement_glorification"
    page.keyboard.press("e")
    page.keyboard.type("Exact copy of a known image; the copies are the same file.")
    shots.take(page, "case-decide", full_page=False)
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(page.locator(".flash", has_text="and 2 copies")).to_have_count(1)

    # Clear the rest of the queue: whatever "next" brings.
    plan: dict[int, str] = {ids["text-copy"]: "journalism", ids["link-fr"]: "violating",
                            ids["altered"]: "escalate", ids["classified"]: "ordinary"}
    done: list[int] = []
    while re.search(r"/cases/\d+$", page.url):
        cid = case_id_of(page)
        assert cid in plan and cid not in done, (cid, done)
        done.append(cid)
        what = plan[cid]
        if what == "escalate":
            page.fill("#escalate-reason", "Re-compressed copy: please check the match.")
            page.click("#escalate-button")
        elif what == "violating":
            page.check("input[name=violating][value=yes]")
            page.select_option("#category", "instruction")
            page.fill("#reason", "Links to known instructional material.")
            page.click("#record-next")
        else:
            if what == "ordinary":
                marks = page.locator("#item-text mark.hl-classifier")
                expect(marks).to_have_count(3)
                shots.take(page, "case-highlights", full_page=False)
            else:
                expect(page.locator("#item-text mark.hl-bank")).to_have_count(1)
                page.select_option("#exemption", "journalism")
            page.check("input[name=violating][value=no]")
            page.fill("#reason", "Neutral placeholder text: nothing to act on.")
            page.click("#record-next")
        page.wait_for_load_state()
    assert sorted(done) == sorted(plan)
    expect(page.locator(".flash", has_text="The queue is clear")).to_have_count(1)

    # -- second opinion: not by the person who asked for it --------------------------
    page.goto(f"/cases/{ids['altered']}")
    expect(page.locator(".escalation-note")).to_contain_text("You asked for this second opinion")
    expect(page.locator("#decision-form")).to_have_count(0)
    second = login(browser, base, "rev2")
    second.goto("/?status=escalated")
    expect(second.locator("tr.queue-row")).to_have_count(1)
    second.keyboard.press("n")
    second.wait_for_url(f"{base}/cases/{ids['altered']}")
    second.check("input[name=violating][value=yes]")
    second.select_option("#category", "incitement_glorification")
    second.fill("#reason", "A near copy of the known image: same material.")
    second.click("#record")
    expect(second.locator("table.decisions")).to_contain_text("second opinion asked")

    # -- every webhook reaches the receiver exactly once, after a refused first try --
    with w.transaction() as session:
        webhook_keys = set(session.execute(
            select(Action.idempotency_key).where(Action.sink == "webhook")).scalars())
    assert len(webhook_keys) == 7
    receiver.wait_for(lambda: set(receiver.acted) == webhook_keys)
    assert receiver.duplicates == 0 and receiver.bad_signatures == 0
    assert all(sum(r["key"] == k for r in receiver.requests) == 2 for k in webhook_keys)
    page.goto("/actions")
    webhook_rows = page.locator("#actions-table tr[data-sink=webhook]")
    expect(webhook_rows).to_have_count(7)
    expect(page.locator("#actions-table tr[data-sink=webhook][data-status=done]")).to_have_count(7)
    expect(page.locator("#delivery-log tr[data-sink=webhook][data-status=failed]").first) \
        .to_contain_text("503")
    shots.take(page, "deliveries", full_page=False)

    # -- reversal on appeal keeps the history -------------------------------------------
    page.goto(f"/cases/{ids['img-2']}")
    expect(page.locator("#decide-h")).to_contain_text("Appeal")
    page.check("input[name=violating][value=no]")
    page.select_option("#exemption", "journalism")
    page.fill("#reason", "On appeal: the post reports on the material, it does not spread it.")
    page.click("#record")
    expect(page.locator("tr.decision-row")).to_have_count(2)
    expect(page.locator("tr.decision-row.superseded")).to_have_count(1)
    receiver.wait_for(lambda: any(p["kind"] == "appeal" for p in receiver.acted.values()))
    appeal = next(p for p in receiver.acted.values() if p["kind"] == "appeal")
    assert appeal["action"] == "restore" and appeal["case_id"] == ids["img-2"]
    page.reload()
    statements = page.locator("a[href^='/statements/']")
    expect(statements).to_have_count(2)  # the removal, then its reversal
    statements.first.click()  # newest first
    expect(page.locator("#sor-restriction")).to_contain_text("restriction is lifted")
    expect(page.locator("#sor-redress")).to_contain_text("platform.example.org/appeal")
    expect(page.locator("#sor-automated")).to_contain_text("automated means")
    shots.take(page, "statement")
    with w.transaction() as session:
        history = list(session.execute(select(Decision).where(
            Decision.case_id == ids["img-2"]).order_by(Decision.id)).scalars())
        assert [d.kind for d in history] == ["decision", "appeal"]
        assert history[1].supersedes_id == history[0].id and history[0].violating
        assert session.get(Case, ids["img-2"]).status == "decided"  # type: ignore[union-attr]

    # -- settings and the break reminder ------------------------------------------------
    page.goto("/settings")
    page.fill("#s-items", "3")
    shots.take(page, "settings")
    page.click("#settings-form button[type=submit]")
    expect(page.locator(".flash", has_text="saved")).to_have_count(1)
    page.keyboard.press("n")  # next case: a break is due first
    page.wait_for_url(f"{base}/break")
    expect(page.locator("h1")).to_have_text("Time for a break")
    shots.take(page, "break")

    # -- the audit log verifies, then catches tampering -----------------------------------
    admin = login(browser, base, "admin")
    admin.goto("/audit")
    expect(admin.locator("#audit-verify")).to_contain_text("intact")
    for kind in ("auth.login", "case.decided", "case.bulk_decided", "action.executed",
                 "bank.entries_added", "statement.issued", "user.settings_changed"):
        admin.goto(f"/audit?event_type={kind}")
        assert admin.locator("#audit-table tbody tr").count() > 0, kind
    admin.goto("/audit")
    shots.take(admin, "audit", full_page=False)
    cli = CLI(Path("."), db=w.settings.database_url)
    cli.data_dir = w.settings.data_dir
    assert "audit log intact" in cli.run("audit", "verify").stdout
    with w.transaction() as session:
        victim = session.execute(select(AuditEvent.id).where(
            AuditEvent.event_type == "case.decided").limit(1)).scalar_one()
        session.execute(update(AuditEvent).where(AuditEvent.id == victim)
                        .values(data={"violating": False}))
    admin.reload()
    expect(admin.locator("#audit-verify")).to_contain_text(f"event {victim}")
    failed = cli.run("audit", "verify", code=1)
    assert f"event {victim}" in failed.stderr


def test_wellness_settings_and_shortcuts(browser: Any,
                                         live: tuple[Warding, rs.Scenario, str]) -> None:
    expect = _playwright().expect
    w, sc, base = live
    page = login(browser, base, "rev2")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    expect(page.locator("#shortcuts")).to_contain_text("reveal or blur all media")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()

    page.goto("/settings")
    page.uncheck("#s-blur")
    page.click("#settings-form button[type=submit]")
    page.goto(f"/cases/{sc.cases['img-3']}")
    assert computed_filter(page, "img.media") == "grayscale(1)"  # grey, not blurred
    page.click("img.media")
    assert computed_filter(page, "img.media") == "none"
    expect(page.locator("#items-seen")).to_contain_text("Seen: 1")
    with w.transaction() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.event_type == "user.settings_changed")).scalar_one()
        assert event.actor == "rev2" and event.data["changes"]["blur"] == [True, False]
