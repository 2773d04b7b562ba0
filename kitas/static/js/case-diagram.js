// KITAS Online: a case on its diagram (officers' and analysts' case diagram pages).
// Draws the case's version with bpmn-js' navigated viewer (window.BpmnJS, vendor/bpmn-js) from the JSON at
// the section's data-url: {diagrams: [{process, label, xml, calledBy}], calls: {activity: process},
// marks: {taken, flows: [[source, target]], current, timers, failed}}. Element ids are unique across the
// diagrams of a version, so one set of marks serves every diagram. The page's list of steps works without it.
(function () {
  "use strict";

  var MARKS = { taken: "kitas-taken", current: "kitas-current", timers: "kitas-timer", failed: "kitas-failed" };

  function start(section, data) {
    var canvasBox = section.querySelector("[data-canvas]");
    var status = section.querySelector("[data-diagram-status]");
    var buttons = Array.prototype.slice.call(section.querySelectorAll("[data-process]"));
    var byProcess = {};
    data.diagrams.forEach(function (diagram) { byProcess[diagram.process] = diagram; });
    var flows = {};
    (data.marks.flows || []).forEach(function (pair) { flows[pair[0] + " " + pair[1]] = true; });
    var viewer = new window.BpmnJS({ container: canvasBox });
    var shown = null;

    function mark() {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      Object.keys(MARKS).forEach(function (kind) {
        (data.marks[kind] || []).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, MARKS[kind]); }
        });
      });
      registry.filter(function (element) { return element.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
        var bo = flow.businessObject;
        if (bo.sourceRef && bo.targetRef && flows[bo.sourceRef.id + " " + bo.targetRef.id]) {
          canvas.addMarker(flow.id, MARKS.taken);
        }
      });
    }

    function show(process, focus) {
      var diagram = byProcess[process];
      if (!diagram) { return Promise.resolve(); }
      buttons.forEach(function (button) {
        button.setAttribute("aria-pressed", button.getAttribute("data-process") === process ? "true" : "false");
      });
      var ready = shown === process ? Promise.resolve() : viewer.importXML(diagram.xml).then(function () {
        shown = process;
        mark();
        var canvas = viewer.get("canvas");
        canvas.zoom("fit-viewport", "auto");
        // A wide diagram fitted into a phone is too small to read: there, start near where the case is now.
        var here = (data.marks.current || []).map(function (id) { return viewer.get("elementRegistry").get(id); })
          .filter(function (element) { return element && element.width; })[0];
        if (here && canvasBox.clientWidth < 576 && canvas.zoom() < 0.6) {
          canvas.zoom(0.8);
          var box = canvas.viewbox();
          canvas.viewbox({
            x: here.x + here.width / 2 - box.width / 2, y: here.y + here.height / 2 - box.height / 2,
            width: box.width, height: box.height
          });
        }
      });
      return ready.then(function () {
        if (!focus) { return; }
        var element = viewer.get("elementRegistry").get(focus);
        if (element) {
          viewer.get("canvas").scrollToElement(element);
          viewer.get("selection").select(element);
        }
      }).catch(function () { status.textContent = section.getAttribute("data-error"); });
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function () { show(button.getAttribute("data-process")); });
    });
    // A shared step (call activity) opens its own diagram.
    viewer.get("eventBus").on("element.click", function (event) {
      var called = data.calls[event.element.id];
      if (called) { show(called); }
    });
    // A step of the list shows where it is on the diagram.
    document.querySelectorAll("[data-element][data-process-id]").forEach(function (item) {
      var process = item.getAttribute("data-process-id");
      if (!byProcess[process]) { return; }
      var link = document.createElement("button");
      link.type = "button";
      link.className = "btn btn-link btn-sm p-0 ms-2 align-baseline";
      link.textContent = section.getAttribute("data-show");
      link.addEventListener("click", function () {
        show(process, item.getAttribute("data-element"));
        section.scrollIntoView({ block: "nearest" });
      });
      var line = item.querySelector("[data-step-when]");
      if (line) { line.appendChild(link); } else { item.appendChild(link); }
    });
    return show(data.diagrams[0].process);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.querySelector("[data-case-diagram]");
    if (!section || typeof window.BpmnJS !== "function" || !window.fetch) { return; }
    section.hidden = false;
    var status = section.querySelector("[data-diagram-status]");
    window.fetch(section.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) { return start(section, data); })
      .catch(function () { status.textContent = section.getAttribute("data-error"); });
  });
})();
