// The studio's modeler page: bpmn-js with the properties panel, drafts saved on the server
// (autosave, "Save now", conflicts) and the draft's problems drawn on its elements.
// Bundled by esbuild (scripts/vendor.sh) into kitas/static/vendor/studio/modeler.js.
// Everything the page needs comes from data-* attributes on [data-studio-modeler].

import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import { layoutProcess } from "bpmn-auto-layout";

import { spiffModdle, spiffModules } from "./properties/index.js";
import { DraftSaver } from "./saving.js";
import { ProblemView } from "./problems.js";
import { texts } from "./texts.js";

// A file without diagram interchange (no BPMNShape: some modelers and generators export the process
// only) would draw as an empty canvas; it is laid out here, and the layout saved with the draft.
function withLayout(xml) {
  if (/<([\w-]+:)?BPMNShape\b/.test(xml)) { return Promise.resolve({ xml, laidOut: false }); }
  return layoutProcess(xml).then((laid) => ({ xml: laid, laidOut: true }));
}

function start(root) {
  const say = texts(root);
  const status = root.querySelector("[data-status]");
  const button = (action) => root.querySelector(`[data-action="${action}"]`);
  // { spiffworkflow: <descriptor> }: the extension elements the engine reads (properties/index.js).
  const moddleExtensions = spiffModdle || {};
  const modeler = new BpmnModeler({
    container: root.querySelector("[data-canvas]"),
    propertiesPanel: { parent: root.querySelector("[data-properties]") },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, ...spiffModules],
    moddleExtensions,
  });
  const problems = new ProblemView(root, modeler, say);
  const saver = new DraftSaver(root, modeler, say, {
    onSaved: () => problems.refresh(),
  });
  const commandStack = modeler.get("commandStack");

  function updateEditButtons() {
    button("undo").disabled = !commandStack.canUndo();
    button("redo").disabled = !commandStack.canRedo();
  }

  button("save").addEventListener("click", () => saver.saveNow());
  button("undo").addEventListener("click", () => { commandStack.undo(); });
  button("redo").addEventListener("click", () => { commandStack.redo(); });
  button("fit").addEventListener("click", () => modeler.get("canvas").zoom("fit-viewport", "auto"));
  button("reload").addEventListener("click", () => saver.reloadLatest());
  button("download-local").addEventListener("click", () => saver.downloadLocalCopy());

  modeler.on("commandStack.changed", () => {
    updateEditButtons();
    saver.changed();
  });

  fetch(root.dataset.diagramUrl, { headers: { Accept: "application/xml" }, credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) { throw new Error(`HTTP ${response.status}`); }
      return response.text();
    })
    .then((xml) => withLayout(xml))
    .then(({ xml, laidOut }) => modeler.importXML(xml).then(() => laidOut))
    .then((laidOut) => {
      modeler.get("canvas").zoom("fit-viewport", "auto");
      button("save").disabled = false;
      button("fit").disabled = false;
      updateEditButtons();
      saver.loaded();
      root.dataset.ready = "true";
      if (laidOut) {
        root.dataset.laidOut = "true";
        saver.changed();  // the layout is saved with the draft
        status.textContent = say("laidOut");
      }
      problems.refresh();
    })
    .catch((error) => {
      status.textContent = say("cannotDraw", { reason: error.message || String(error) });
      root.dataset.ready = "failed";
      problems.refresh();
    });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-studio-modeler]").forEach(start);
});
