// The draft's problems (GET data-lint-url): a badge on each element with the count of its problems,
// coloured by the worst severity, with the messages as its title; a marker class on the element;
// and a list beside the canvas whose rows select the element and scroll the canvas to it.

const OVERLAY = "studio-lint";
const MARKERS = ["studio-lint-error", "studio-lint-warning"];

export class ProblemView {
  constructor(root, modeler, say) {
    this.root = root;
    this.modeler = modeler;
    this.say = say;
    this.list = root.querySelector("[data-problems]");
    this.summary = root.querySelector("[data-lint-summary]");
    this.marked = [];
    this.request = 0;
  }

  async refresh() {
    const ticket = ++this.request;
    let report;
    try {
      const response = await fetch(this.root.dataset.lintUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      report = await response.json();
      if (!response.ok) { throw new Error(report.message || `HTTP ${response.status}`); }
    } catch (error) {
      if (ticket === this.request) {
        this.summary.textContent = this.say("lintFailed", { reason: error.message || String(error) });
      }
      return;
    }
    if (ticket !== this.request) { return; } // a newer check is on its way
    this.show(report);
  }

  show(report) {
    this.clear();
    this.summary.textContent = report.summary;
    this.summary.dataset.deployable = String(report.deployable);
    this.root.dataset.problemCount = String(report.problems.length);
    const registry = this.modeler.get("elementRegistry");
    const byElement = new Map();
    report.problems.forEach((problem) => {
      const element = registry.get(problem.element);
      this.list.appendChild(this.row(problem, element));
      if (element) {
        if (!byElement.has(element)) { byElement.set(element, []); }
        byElement.get(element).push(problem);
      }
    });
    byElement.forEach((found, element) => this.mark(element, found));
    if (!report.problems.length) {
      const item = document.createElement("li");
      item.className = "text-success";
      item.textContent = this.say("noProblems");
      this.list.appendChild(item);
    }
  }

  mark(element, found) {
    const severity = found.some((p) => p.severity === "error") ? "error" : "warning";
    const canvas = this.modeler.get("canvas");
    canvas.addMarker(element, `studio-lint-${severity}`);
    const badge = document.createElement("span");
    badge.className = `studio-lint-badge studio-lint-badge-${severity}`;
    badge.textContent = String(found.length);
    badge.title = found.map((p) => p.message).join("\n");
    badge.setAttribute("role", "img");
    badge.setAttribute("aria-label", this.say("problemsOf", { element: this.nameOf(element, element.id) }));
    badge.dataset.lintElement = element.id;
    this.modeler.get("overlays").add(element, OVERLAY, { position: { top: -8, right: 8 }, html: badge });
    this.marked.push(element);
  }

  row(problem, element) {
    const item = document.createElement("li");
    item.className = `studio-problem studio-problem-${problem.severity}`;
    item.dataset.element = problem.element;
    item.dataset.severity = problem.severity;
    item.dataset.rule = problem.rule;
    const control = document.createElement(element ? "button" : "div");
    if (element) {
      control.type = "button";
      control.className = "btn btn-link btn-sm p-0 text-start studio-problem-link";
      control.addEventListener("click", () => this.reveal(element));
    }
    const severity = document.createElement("span");
    severity.className = `badge me-1 ${problem.severity === "error" ? "text-bg-danger" : "text-bg-warning"}`;
    severity.textContent = this.say(problem.severity);
    const name = document.createElement("strong");
    name.textContent = element ? this.nameOf(element, problem.element) : this.wholeOr(problem.element);
    const message = document.createElement("span");
    message.textContent = ` ${problem.message}`;
    control.append(severity, name, message);
    item.appendChild(control);
    return item;
  }

  reveal(element) {
    this.modeler.get("selection").select(element);
    const canvas = this.modeler.get("canvas");
    canvas.scrollToElement(element, { top: 100, bottom: 100, left: 100, right: 100 });
    canvas.focus?.();
  }

  nameOf(element, fallback) {
    const name = element.businessObject && element.businessObject.name;
    return name ? name.replace(/\s+/g, " ").trim() : fallback;
  }

  wholeOr(element) {
    return !element || element === "(document)" ? this.say("wholeDiagram") : element;
  }

  clear() {
    const canvas = this.modeler.get("canvas");
    this.modeler.get("overlays").remove({ type: OVERLAY });
    const registry = this.modeler.get("elementRegistry");
    this.marked.filter((element) => registry.get(element.id)).forEach((element) => MARKERS.forEach((marker) => canvas.removeMarker(element, marker)));
    this.marked = [];
    this.list.replaceChildren();
  }
}
