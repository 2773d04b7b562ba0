// Saving a draft on the server: a few seconds after each change, and at once on "Save now".
// Each save names the revision it was made on; a 409 means someone else saved since: the page
// shows who and when, stops saving, and keeps the local diagram (downloadable) until the analyst
// reloads. Nothing is ever overwritten silently.

const AUTOSAVE_DELAY_MS = 3000;

export class DraftSaver {
  constructor(root, modeler, say, { onSaved }) {
    this.root = root;
    this.modeler = modeler;
    this.say = say;
    this.onSaved = onSaved;
    this.revision = parseInt(root.dataset.revision, 10);
    this.status = root.querySelector("[data-status]");
    this.conflict = root.querySelector("[data-conflict]");
    this.dirty = false;
    this.saving = null; // the save in flight (a promise)
    this.again = false; // a change came while saving: save once more afterwards
    this.conflicted = false;
    this.leaving = false;
    this.timer = null;
    window.addEventListener("beforeunload", (event) => {
      if (!this.leaving && (this.dirty || this.conflicted)) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  loaded() {
    this.setStatus(this.lastSavedText(), "saved");
  }

  changed() {
    this.dirty = true;
    if (this.conflicted) { return; }
    this.setStatus(this.say("unsaved"), "unsaved");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), AUTOSAVE_DELAY_MS);
  }

  saveNow() {
    clearTimeout(this.timer);
    return this.save();
  }

  async save() {
    if (this.conflicted) { return; }
    if (this.saving) {
      this.again = true;
      return this.saving;
    }
    this.saving = this.send().finally(() => {
      this.saving = null;
      if (this.again && !this.conflicted) {
        this.again = false;
        this.save();
      }
    });
    return this.saving;
  }

  async send() {
    const { xml } = await this.modeler.saveXML({ format: true });
    // Changes made while the request travels keep the page dirty (see "again").
    this.dirty = false;
    this.setStatus(this.say("saving"), "saving");
    let response;
    try {
      response = await fetch(this.root.dataset.saveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": this.root.dataset.csrfToken,
        },
        body: JSON.stringify({ revision: this.revision, xml }),
      });
    } catch (error) {
      this.dirty = true;
      this.setStatus(this.say("cannotSave", { reason: this.say("offline") }), "failed");
      return;
    }
    const answer = await response.json().catch(() => null);
    if (answer === null) {
      // Not the JSON this route answers: a sign-in page after the session ended, or a proxy's error.
      this.dirty = true;
      this.setStatus(this.say("cannotSave", { reason: this.say("signedOut") }), "failed");
      return;
    }
    if (response.ok) {
      this.revision = answer.revision;
      this.root.dataset.revision = String(answer.revision);
      this.text("[data-revision-label]", String(answer.revision));
      this.text("[data-saved-by]", answer.saved_by);
      this.text("[data-saved-at]", answer.saved_at_text);
      this.savedText = answer.status;
      this.setStatus(this.dirty ? this.say("unsaved") : answer.status, this.dirty ? "unsaved" : "saved");
      this.onSaved();
      return;
    }
    this.dirty = true;
    const reason = answer.message || `HTTP ${response.status}`;
    if (response.status === 409) {
      this.conflicted = true;
      clearTimeout(this.timer);
      this.conflict.querySelector("[data-conflict-message]").textContent = reason;
      this.conflict.hidden = false;
      this.root.querySelector('[data-action="save"]').disabled = true;
      this.setStatus(this.say("cannotSave", { reason: this.say("conflict") }), "conflict");
      this.conflict.querySelector('[data-action="reload"]').focus();
      return;
    }
    this.setStatus(this.say("cannotSave", { reason }), "failed");
  }

  lastSavedText() {
    return this.savedText || this.root.dataset.savedStatus;
  }

  reloadLatest() {
    this.leaving = true;
    window.location.reload();
  }

  async downloadLocalCopy() {
    const { xml } = await this.modeler.saveXML({ format: true });
    const url = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = this.root.dataset.fileName.replace(/\.bpmn$/, "") + "-my-copy.bpmn";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  setStatus(text, state) {
    this.status.textContent = text;
    this.status.dataset.state = state;
  }

  text(selector, value) {
    const node = this.root.querySelector(selector);
    if (node) { node.textContent = value; }
  }
}
