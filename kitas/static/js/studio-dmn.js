// The studio's decision table editor: dmn-js (the modeler's UMD build, global DmnJS) on the table's XML.
// The XML lives in the page's textarea (the form posts it); the editor keeps it current on every change,
// and hands it to the test panel so a test computes the table as it stands in the editor.
(function () {
  "use strict";

  function start(container) {
    var source = document.getElementById(container.dataset.xmlSource);
    var testXml = document.getElementById(container.dataset.testXml);
    var form = source.form;
    var dirty = document.querySelector("[data-dmn-dirty]");
    var failure = document.querySelector("[data-dmn-error]");
    var original = source.value;
    if (typeof window.DmnJS !== "function") {
      return; // no editor: the XML textarea and the read-only table stay
    }
    var placeholder = container.querySelector("[data-dmn-placeholder]");
    var modeler = new window.DmnJS({ container: container });

    function showFailure(error) {
      failure.textContent = String((error && error.message) || error);
      failure.classList.remove("d-none");
    }

    function keep() {
      return modeler.saveXML({ format: true }).then(function (result) {
        source.value = result.xml;
        var changed = result.xml !== original;
        if (testXml) {
          testXml.value = changed ? result.xml : "";
        }
        if (dirty) {
          dirty.classList.toggle("d-none", !changed);
        }
        return result.xml;
      });
    }

    function listen() {
      var viewer = modeler.getActiveViewer();
      if (viewer) {
        viewer.on("elements.changed", function () {
          keep().catch(showFailure);
        });
      }
    }

    modeler
      .importXML(source.value)
      .then(function () {
        var table = modeler.getViews().filter(function (view) {
          return view.type === "decisionTable";
        })[0];
        return table ? modeler.open(table) : null;
      })
      .then(function () {
        if (placeholder) {
          placeholder.remove();
        }
        container.classList.add("dmn-editor-ready");
        document.querySelector("[data-dmn-xml]").classList.add("d-none");
        listen();
        modeler.on("views.changed", listen);
        // The editor writes the XML its own way: compare later changes with that, not the server's text.
        return modeler.saveXML({ format: true }).then(function (result) {
          original = result.xml;
        });
      })
      .catch(showFailure);

    form.addEventListener("submit", function (event) {
      if (form.dataset.kept === "1") {
        return;
      }
      event.preventDefault();
      keep()
        .catch(function () {
          return source.value;
        })
        .then(function () {
          form.dataset.kept = "1";
          form.submit();
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-dmn-editor]").forEach(start);
  });
})();
