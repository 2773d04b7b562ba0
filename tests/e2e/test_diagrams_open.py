"""Every diagram under bpmn/ (the shared steps included) opens in bpmn-js, the library of bpmn.io.

The navigated viewer (the npm package bpmn-js, copied into kitas/static/vendor by scripts/vendor.sh)
imports each file in a real browser: no import warning (an element without diagram interchange, a
reference to nothing, an unknown attribute), and every flow node, lane and sequence flow of the process
is drawn.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent
VIEWERS = (
    ROOT / "kitas/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
    ROOT / "node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
)
DIAGRAMS = sorted([*ROOT.glob("bpmn/*.bpmn"), *ROOT.glob("bpmn/shared/*.bpmn")])
MODEL = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DRAWN = {"sequenceFlow", "lane", "callActivity", "boundaryEvent"}


def _drawn_ids(path: Path) -> set[str]:
    """Every element of the process people see drawn: flow nodes, lanes, sequence flows."""
    root = ET.parse(path).getroot()
    ids = set()
    for process in root.iter(f"{MODEL}process"):
        for element in process.iter():
            tag = element.tag.removeprefix(MODEL)
            if element.get("id") and (tag in DRAWN or tag.endswith(("Task", "Event", "Gateway")) or tag == "task"):
                ids.add(str(element.get("id")))
    return ids


@pytest.fixture(scope="module")
def viewer_page(browser: Any) -> Any:
    viewer = next((path for path in VIEWERS if path.is_file()), None)
    if viewer is None:
        pytest.skip("bpmn-js is not installed (npm install; scripts/vendor.sh)")
    page = browser.new_page()
    page.set_content('<html><body><div id="canvas" style="width:1600px;height:900px"></div></body></html>')
    page.add_script_tag(path=str(viewer))
    yield page
    page.close()


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_the_diagram_opens_in_bpmn_js_without_warnings_and_draws_every_element(viewer_page: Any, path: Path) -> None:
    result = viewer_page.evaluate(
        """async (xml) => {
            if (window.viewer) { window.viewer.destroy(); }
            window.viewer = new BpmnJS({ container: '#canvas' });
            const imported = await window.viewer.importXML(xml);
            const registry = window.viewer.get('elementRegistry');
            return {
                warnings: imported.warnings.map((w) => w.message),
                drawn: registry.getAll().filter((e) => registry.getGraphics(e)).map((e) => e.id),
            };
        }""",
        path.read_text(encoding="utf-8"),
    )
    assert result["warnings"] == []
    assert sorted(_drawn_ids(path) - set(result["drawn"])) == []
