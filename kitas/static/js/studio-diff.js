// The studio's diff: each [data-diff-diagram] shows a diagram (bpmn-js navigated viewer) with the
// elements the diff names coloured: on the old side the removed and changed ones, on the new side the
// added and changed ones. The lists on the page say the same without JavaScript.
(function () {
  "use strict";

  function show(container) {
    var markers = JSON.parse(container.getAttribute("data-markers") || "{}");
    var side = container.getAttribute("data-side");
    var wanted = side === "old" ? ["removed", "changed"] : ["added", "changed"];
    var viewer = new window.BpmnJS({ container: container });
    fetch(container.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        wanted.forEach(function (kind) {
          (markers[kind] || []).forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, "diff-" + kind); }
          });
        });
        canvas.zoom("fit-viewport", "auto");
        container.setAttribute("data-shown", "true");
      })
      .catch(function () {
        container.textContent = container.getAttribute("data-failed") || "";
        container.classList.add("diff-canvas-failed");
      });
  }

  function start() {
    if (!window.BpmnJS) { return; }
    document.querySelectorAll("[data-diff-diagram]").forEach(show);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
