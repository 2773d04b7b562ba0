"""The studio's modeler in a real browser: a draft of kitas_worker drawn by bpmn-js, an element moved and
autosaved, the change kept across a reload, the problems of a broken import drawn on its element, and a
second analyst editing the same draft told of the conflict instead of overwriting it.

Analysts sign in with a password and the code of their app, as officers do. The page runs under the
site's strict Content-Security-Policy; any violation reported in the console fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.studio import diagram, new_analyst, open_draft_of, wait_until_drawn
from tests.e2e.test_worker_journey import Person, expect, sign_in
from tests.e2e.words import Words

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NO_LAYOUT = Path(__file__).parents[1] / "data" / "no_layout.bpmn"
BROKEN = Path(__file__).resolve().parent.parent / "data" / "modeler_broken_script.bpmn"
SHOTS = Path(__file__).resolve().parent.parent.parent / "var" / "screenshots"


@pytest.fixture(scope="module")
def analysts(live_server: LiveServer) -> tuple[Person, Person]:
    """Two analysts, each with an authenticator app of their own."""
    return new_analyst(live_server, "Alma Analyst"), new_analyst(live_server, "Bima Analyst")


@pytest.fixture()
def csp_violations(browser_context: Any) -> Iterator[list[str]]:
    """Every Content-Security-Policy violation the pages of the context report in the console."""
    found: list[str] = []

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(message.text)

    browser_context.on("console", console)
    yield found


def open_worker_draft(page: Any, words: Words) -> None:
    """From the studio's list, edit (or continue editing) kitas_worker, and wait for the diagram."""
    open_draft_of(page, "kitas_worker")


def shape_x(xml: str, element: str) -> float:
    """The x of an element's shape in the diagram interchange of a .bpmn file."""
    match = re.search(rf'<bpmndi:BPMNShape [^>]*bpmnElement="{element}"[^>]*>\s*<dc:Bounds x="([-\d.]+)"', xml)
    assert match, f"no shape of {element} in the diagram"
    return float(match.group(1))


def first_task(page: Any) -> tuple[str, Any]:
    """The id and the shape on the canvas of the process's right-most user task (away from the palette)."""
    xml = diagram(page)
    tasks = re.findall(r'<bpmn:userTask id="([^"]+)"', xml)
    assert tasks, "the diagram has no user task"
    chosen = max(tasks, key=lambda task: shape_x(xml, task))
    return chosen, page.locator(f'g.djs-shape[data-element-id="{chosen}"]')


def drag(page: Any, shape: Any, dx: float) -> None:
    """Drag a shape on the canvas ``dx`` screen pixels to the right, as a person does with the mouse."""
    box = shape.locator(".djs-visual").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + dx * step / 10, y)
    page.mouse.up()


def import_as_draft(browser_context: Any, words: Words, analyst: Person, path: Path) -> Any:
    """Sign in as the analyst, import a diagram file from the studio's list, and wait until it is drawn."""
    page = browser_context.new_page()
    page.goto("/")
    sign_in(page, words, analyst)
    page.goto("/studio/")
    page.get_by_label(words("Diagram file (.bpmn or .xml, at most 2 MB)")).set_input_files(str(path))
    page.get_by_role("button", name=words("Import as a draft")).click()
    wait_until_drawn(page)
    return page


def shot(page: Any, name: str) -> None:
    """A full-page screenshot under var/screenshots/ (git-ignored), to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_an_analyst_moves_an_element_it_is_autosaved_and_kept_after_a_reload(
    browser_context: Any, words: Words, analysts: tuple[Person, Person], csp_violations: list[str]
) -> None:
    page = browser_context.new_page()
    page.goto("/")
    sign_in(page, words, analysts[0])
    open_worker_draft(page, words)
    assert page.locator("g.djs-shape").count() > 10, "the worker diagram is drawn"
    expect(page.get_by_test_id("lint-summary")).to_have_text(words("Can be deployed"))
    expect(page.get_by_test_id("save-status")).to_contain_text(words("Saved at %(time)s").split("%")[0].strip())
    element, shape = first_task(page)
    before = shape_x(diagram(page), element)
    drag(page, shape, 120)
    expect(page.get_by_test_id("save-status")).to_have_text(words("Unsaved changes"))
    # Leaving before the autosave (a few seconds later) asks first; staying keeps the change.
    asked: list[str] = []

    def stay(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name=words("Process studio")).click()
    expect(page.get_by_test_id("canvas")).to_be_visible()
    assert asked == ["beforeunload"]
    expect(page.get_by_test_id("undo")).to_be_enabled()
    expect(page.get_by_test_id("save-status")).to_contain_text(words("Saved at %(time)s").split("%")[0].strip())
    expect(page.locator("[data-revision-label]")).to_have_text("2")
    after = shape_x(diagram(page), element)
    assert after > before + 50, f"{element} moved right on the server ({before} -> {after})"

    # Add a task after it from the context pad of the moved (still selected) element; it is autosaved too.
    tasks = diagram(page).count("<bpmn:task ")
    page.locator('.djs-context-pad [data-action="append.append-task"]').click()
    expect(page.locator("[data-revision-label]")).to_have_text("3")
    added = re.findall(r'<bpmn:task id="([^"]+)"', diagram(page))
    assert len(added) == tasks + 1

    page.reload()
    wait_until_drawn(page)
    expect(page.locator("[data-revision-label]")).to_have_text("3")
    # The canvas draws the saved diagram: the task where it was dropped, the added one present.
    drawn = page.locator(f'g.djs-shape[data-element-id="{element}"]').get_attribute("transform") or ""
    assert re.search(rf"matrix\(1,? 0,? 0,? 1,? {after:g},? ", drawn), drawn
    expect(page.locator(f'g.djs-shape[data-element-id="{added[-1]}"]')).to_have_count(1)
    # Keyboard: "Fit view" and "Save now" are buttons reached with Tab and pressed with Enter.
    page.get_by_test_id("fit-view").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("save-now").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-revision-label]")).to_have_text("4")

    page.set_viewport_size({"width": 1200, "height": 900})
    shot(page, "studio-modeler-1200.png")
    page.set_viewport_size({"width": 375, "height": 800})
    page.get_by_test_id("fit-view").click()
    shot(page, "studio-modeler-375.png")
    assert csp_violations == []


def test_the_problems_of_a_broken_import_are_drawn_on_its_elements(
    browser_context: Any, words: Words, analysts: tuple[Person, Person], csp_violations: list[str]
) -> None:
    page = import_as_draft(browser_context, words, analysts[0], BROKEN)
    expect(page.get_by_test_id("lint-summary")).to_have_text("Cannot be deployed yet: 1 error")
    expect(page.locator('g.djs-shape[data-element-id="compute_fee"]')).to_have_class(re.compile("studio-lint-error"))
    badge = page.locator('.studio-lint-badge[data-lint-element="compute_fee"]')
    expect(badge).to_have_text("1")
    expect(badge).to_have_attribute("title", re.compile("was never closed"))
    row = page.get_by_test_id("problems").locator('[data-element="compute_fee"]')
    expect(row).to_contain_text("Compute the fee")
    expect(row).to_contain_text("was never closed")
    row.get_by_role("button").click()
    expect(page.locator('g.djs-shape[data-element-id="compute_fee"]')).to_have_class(re.compile("selected"))
    shot(page, "studio-modeler-lint-1280.png")
    assert csp_violations == []


def test_a_file_without_a_layout_is_laid_out_drawn_and_saved_with_it(
    browser_context: Any, words: Words, analysts: tuple[Person, Person], csp_violations: list[str]
) -> None:
    page = import_as_draft(browser_context, words, analysts[0], NO_LAYOUT)
    expect(page.locator("[data-studio-modeler]")).to_have_attribute("data-laid-out", "true")
    for element in ("start_check", "review_request", "end_check"):
        expect(page.locator(f'g.djs-shape[data-element-id="{element}"]')).to_be_visible()
    # The layout is autosaved with the draft: the server's copy now has a shape for each element.
    expect(page.get_by_test_id("save-status")).to_contain_text(words("Saved at"))
    saved = diagram(page)
    assert all(f'bpmnElement="{element}"' in saved for element in ("start_check", "review_request", "end_check"))
    assert csp_violations == []


def test_a_second_analyst_on_the_same_draft_is_told_of_the_conflict(
    browser: Any, browser_context: Any, live_server: LiveServer, words: Words, analysts: tuple[Person, Person]
) -> None:
    first = browser_context.new_page()
    first.goto("/")
    sign_in(first, words, analysts[0])
    open_worker_draft(first, words)
    other = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 1000}, locale="en-US")
    try:
        second = other.new_page()
        second.goto("/")
        sign_in(second, words, analysts[1])
        open_worker_draft(second, words)
        revision = first.locator("[data-revision-label]").inner_text()
        # The first analyst saves a change; the second, still on the older copy, changes something too.
        element, shape = first_task(first)
        drag(first, shape, 80)
        expect(first.locator("[data-revision-label]")).not_to_have_text(revision)
        _element, theirs = first_task(second)
        drag(second, theirs, -60)
        second.get_by_test_id("save-now").click()
        conflict = second.get_by_test_id("conflict")
        expect(conflict).to_be_visible()
        expect(conflict).to_contain_text("Alma Analyst")
        expect(conflict).to_contain_text("saved this draft at")
        expect(second.get_by_test_id("save-status")).to_have_text(
            "Could not save: someone else saved this draft after you opened it (see above)"
        )
        expect(second.get_by_test_id("save-now")).to_be_disabled()
        # Nothing was overwritten: the server has the first analyst's diagram.
        server_x = shape_x(diagram(second), element)
        assert server_x == shape_x(diagram(first), element)
        shot(second, "studio-modeler-conflict-1280.png")
        # The local copy can be downloaded before reloading.
        with second.expect_download() as download:
            second.get_by_test_id("download-local").click()
        assert download.value.suggested_filename == "kitas_worker-my-copy.bpmn"
        second.get_by_test_id("reload-latest").click()
        wait_until_drawn(second)
        expect(second.get_by_test_id("conflict")).to_be_hidden()
        expect(second.locator("[data-revision-label]")).to_have_text(
            first.locator("[data-revision-label]").inner_text()
        )
    finally:
        other.close()
