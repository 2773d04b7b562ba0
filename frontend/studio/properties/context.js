// The draft's context (what the panel picks from, its labels in the reader's language) and the server checks.

// English until context.json brings the reader's language (the server's catalog holds both languages).
const ENGLISH = {
  kitas: 'KITAS',
  lane_role: 'Role',
  lane_unknown: "This lane's name maps to no role; choose a known lane name.",
  lane_name: 'Lane name',
  no_role: '(no role)',
  form: 'Form',
  form_schema: 'JSON Schema file',
  form_ui_schema: 'UI schema file',
  none: '(none)',
  open_form_editor: 'Open in the form editor',
  status: 'Status',
  status_help: "The case's status while this step is open, such as awaiting_documents.",
  four_eyes: 'Not by the performer of',
  four_eyes_help: 'Ids of user tasks (comma-separated) whose performer may not take this task.',
  script: 'Script',
  pre_script: 'Script before',
  post_script: 'Script after',
  condition: 'Condition',
  checking: 'Checking…',
  code_ok: 'The sandbox accepts this code.',
  line: 'Line',
  check_failed: 'The check could not be reached; your text is kept.',
  timer: 'Timer',
  timer_type: 'Type',
  timer_duration: 'Duration (after the start)',
  timer_date: 'Date and time',
  timer_cycle: 'Cycle (repeating)',
  timer_value: 'Value (ISO 8601)',
  timer_expression: 'Computed by an expression',
  timer_expression_value: 'Expression (Python)',
  timer_expression_words: 'Computed by the expression when the timer starts.',
  message: 'Message',
  message_name: 'Message name',
  message_variable: 'Variable that receives the message',
  call: 'Called process',
  called_element: 'Process to call',
  shared_steps: 'Shared steps',
  processes_in_file: 'Processes of this file',
  decision: 'Decision',
  decision_id: 'Decision table'
};

const EMPTY = {
  lanes: {},
  roles: [],
  shared_steps: [],
  forms: { schemas: [], ui_schemas: [] },
  decisions: [],
  form_editor_url: null,
  labels: {}
};

export const draftContext = { ...EMPTY, loaded: false };

export function t(key) {
  return (draftContext.labels && draftContext.labels[key]) || ENGLISH[key] || key;
}

function csrfToken() {
  // The modeler page carries the token on its root (data-csrf-token); other pages in a meta tag.
  const holder = document.querySelector('[data-csrf-token]');
  if (holder) return holder.getAttribute('data-csrf-token') || '';
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') || '' : '';
}

// Loads context.json named by the canvas container's data-context-url; calls onLoaded when it is there.
export function loadContext(onLoaded) {
  const holder = document.querySelector('[data-context-url]');
  const url = holder && holder.getAttribute('data-context-url');
  if (!url) {
    return;
  }
  fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((body) => {
      Object.assign(draftContext, EMPTY, body, { loaded: true });
      onLoaded();
    })
    .catch(() => {
      /* the panel keeps its English labels and offers what the diagram itself names */
    });
}

// POST a check; resolves to the JSON answer, or null when the server could not be reached.
export function postCheck(path, body) {
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
    body: JSON.stringify(body)
  })
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
}
