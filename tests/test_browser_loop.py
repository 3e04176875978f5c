"""The Loop tab in a real JupyterLab, in Debian's Chromium at 1366x800, the sidebar at its
default width: the leader line, a cycle waiting for an approval with its gate table and the
comparison with the champion, Approve with a comment (recorded with the approver's identity),
the cycles' timeline; then the version the cycle released in its main-area tab, which fits.
Screenshots go to test-output/browser/."""

from __future__ import annotations

import time

import pytest
from browser_support import (
    chromium_page,
    chromium_path,
    layout_problems,
    open_lab,
    open_panel,
    running_lab,
    screenshot,
    use_theme,
)
from server_support import release_project

pytestmark = pytest.mark.browser

LOOP = """\
  approvals: {champion: {not_self: true}}
loop:
  triggers:
    drift: {alert: input_drift, window: 10m, sustained: 5m}
    nightly: {schedule: "0 3 * * *"}
    new-data: {watch: [data/incoming/]}
"""


def seed_waiting_cycle(ws, monkeypatch) -> str:
    """v1 the champion; v2, registered by the loop, validated, a canary, and its cycle waiting
    for an approval for champion; an older cycle that a gate stopped."""
    from jupyter_mlops.loop.cycle import CycleBook, CyclePlan, StageRecord
    from jupyter_mlops.loop.firing import Firing
    from jupyter_mlops.release.approvals import decide, request_approval
    from jupyter_mlops.release.registration import register
    from jupyter_mlops.release.rollout import promote
    from jupyter_mlops.release.validation import validate
    from jupyter_mlops.store.gateway import gateway_for

    first, second = release_project(ws)
    with (ws.root / "mlops.yaml").open("a") as fh:
        fh.write(LOOP)
    v1 = register(gateway_for(ws), first, "churn")
    assert validate(gateway_for(ws), "churn", v1.version, write_card=False).passed
    decide(gateway_for(ws), "churn", v1.version, "approve", actor="alice", comment="first release")
    promote(gateway_for(ws), "churn", v1.version, "champion", reason="first release")

    book = CycleBook(gateway_for(ws), "churn")
    now = time.time()
    old = book.start(
        Firing("nightly", "schedule", "schedule 0 3 * * * (UTC)", now), CyclePlan(), "ops"
    )
    for i, (stage, status, note) in enumerate(
        [
            ("build", "done", "cached train (1 s)"),
            ("register", "done", "run 2f1c9a0e is already v1"),
            ("validate", "stopped", "gates failed: metrics.accuracy: accuracy 0.58 misses >= 0.6"),
        ]
    ):
        old.stages.append(StageRecord(stage, status, now - 7200 + i, now - 7199 + i, note))
    old.outcome = "stopped"
    book.finish(old)

    monkeypatch.setenv("MLOPS_ACTOR", "loop-bot")
    v2 = register(gateway_for(ws), second, "churn", reason="loop cycle")
    assert validate(gateway_for(ws), "churn", v2.version, write_card=True).passed
    promote(gateway_for(ws), "churn", v2.version, "staging", reason="loop cycle")
    promote(gateway_for(ws), "churn", v2.version, "canary", weight=20, reason="loop cycle")
    reason = "input drift: age PSI 5.54 > 0.2, KS 0.79 > 0.2, 22.7% unseen values (held 300 s)"
    cycle = book.start(Firing("drift", "alert", reason, now), CyclePlan(watch=120), "loop-bot")
    notes = [
        ("build", "done", "ran prepare, train (41 s)"),
        ("register", "done", f"v{v2.version} from run {second[:8]}"),
        ("validate", "done", "2 gate results passed"),
        ("staging", "done", f"v{v2.version} is staging"),
        ("canary", "done", f"v{v2.version} is canary at 20% of traffic"),
        ("watch", "done", "canary kept after 124 s under the guard"),
        ("champion", "waiting", "waiting for an approval (anyone)"),
    ]
    for i, (stage, status, note) in enumerate(notes):
        ended = None if status == "waiting" else now - 600 + 60 * i + 50
        cycle.stages.append(StageRecord(stage, status, now - 600 + 60 * i, ended, note))
    cycle.version, cycle.outcome = str(v2.version), "waiting"
    book.save(cycle)
    request_approval(gateway_for(ws), "churn", v2.version, comment=reason, cycle=cycle.run_id)
    monkeypatch.delenv("MLOPS_ACTOR")
    return str(v2.version)


def test_approve_a_waiting_cycle_in_the_loop_tab(workspace, tmp_path, monkeypatch):
    chromium_path()
    version = seed_waiting_cycle(workspace, monkeypatch)
    with (
        running_lab(workspace.root, tmp_path / "lab") as lab,
        chromium_page(1366, 800) as page,
    ):
        try:
            walk(page, lab, version)
        except Exception:
            screenshot(page, "loop-failure")
            print(lab.log_tail(60))
            raise
    check_trail(workspace, version)


def fits(page, selector: str = "#jp-mlops-sidebar") -> None:
    problems = layout_problems(page, selector)
    assert problems == [], f"{selector} does not fit:\n" + "\n".join(problems)


def walk(page, lab, version: str) -> None:
    open_lab(page, lab)
    panel = open_panel(page)  # never resized: JupyterLab's default width
    panel.locator(".lm-TabBar-tab[title='Loop']").click()
    tab = panel.locator("#jp-mlops-tab-loop")
    card = tab.locator(f".jp-mlops-approval[data-version='{version}']")
    card.wait_for(timeout=30_000)
    assert "no loop process runs" in tab.locator(".jp-mlops-loop-leader").inner_text()
    gates = card.locator(".jp-mlops-compact-gates tr")
    assert gates.count() == 2 and "metrics.accuracy" in gates.first.inner_text()
    comparison = card.locator(".jp-mlops-comparison-table [data-metric='accuracy'] td")
    assert comparison.count() == 2  # v2 beside the champion v1
    triggers = tab.locator(".jp-mlops-trigger")
    assert [triggers.nth(i).get_attribute("data-trigger") for i in range(3)] == [
        "drift",
        "nightly",
        "new-data",
    ]
    assert "next in" in triggers.nth(1).inner_text()
    cycles = tab.locator(".jp-mlops-cycle")
    assert [cycles.nth(i).get_attribute("data-outcome") for i in range(2)] == [
        "waiting",
        "stopped",
    ]
    assert cycles.first.locator(".jp-mlops-stage-waiting").get_attribute("data-stage") == (
        "champion"
    )
    fits(page)
    screenshot(page, "loop-1-waiting")
    tab.evaluate("el => el.scrollTop = el.scrollHeight")
    fits(page)
    screenshot(page, "loop-2-timeline")
    use_theme(page, "JupyterLab Dark")
    fits(page)
    screenshot(page, "loop-3-dark")
    use_theme(page, "JupyterLab Light")

    card.locator(".jp-mlops-approval-comment").fill("drift explained; the canary held")
    card.locator(".jp-mlops-approve").click()
    tab.locator(".jp-mlops-message", has_text=f"churn v{version} approved for champion").wait_for(
        timeout=30_000
    )
    card.wait_for(state="detached", timeout=30_000)  # nothing waits any more
    fits(page)
    screenshot(page, "loop-4-approved")

    # the version the cycle released, in the main area at 1366x800: its gate table fits
    cycles.first.locator(".jp-mlops-link").click()
    detail = page.locator(f".jp-mlops-version-detail[data-version='{version}']")
    detail.locator(".jp-mlops-gate-results").wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    fits(page, ".jp-mlops-version-panel")
    screenshot(page, "loop-5-version")


def check_trail(workspace, version: str) -> None:
    from jupyter_mlops.release.approvals import approvals
    from jupyter_mlops.release.history import events
    from jupyter_mlops.store.gateway import gateway_for
    from jupyter_mlops.store.identity import login_name

    decided = approvals(gateway_for(workspace), "churn", state="approved")
    mine = next(a for a in decided if a.version == version)
    assert mine.decided_by == login_name() and mine.comment == "drift explained; the canary held"
    last = events(gateway_for(workspace), "churn")[-1]
    assert (last.action, last.version, last.reason) == (
        "approve",
        version,
        "drift explained; the canary held",
    )
