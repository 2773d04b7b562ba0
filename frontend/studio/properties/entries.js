// The panel's entries: each a preact component built from @bpmn-io/properties-panel's entry components.

import htm from 'htm';
import { h } from '@bpmn-io/properties-panel/preact';
import { useEffect, useState } from '@bpmn-io/properties-panel/preact/hooks';
import { CheckboxEntry, SelectEntry, TextAreaEntry, TextFieldEntry } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { draftContext, postCheck, t } from './context.js';
import { eventDefinition, getBody, getProperty, processesInFile, setBody, setProperty } from './model.js';

const html = htm.bind(h);
const CHECK_DELAY_MS = 400;

function services() {
  return {
    bpmnFactory: useService('bpmnFactory'),
    commandStack: useService('commandStack'),
    modeling: useService('modeling'),
    debounce: useService('debounceInput')
  };
}

// Options of a select: "(none)", the known values, and the current value even when it is not known
// (a file the draft does not have, say), so choosing nothing never loses what the diagram says.
function options(known, current) {
  const values = [...known];
  if (current && !values.includes(current)) {
    values.unshift(current);
  }
  return [{ value: '', label: t('none') }, ...values.map((value) => ({ value, label: value }))];
}

// Waits until the value rests, then asks the server; returns its answer, 'checking' or 'failed'.
function useCheck(path, body, active) {
  const [answer, setAnswer] = useState(null);
  const key = JSON.stringify(body);
  useEffect(() => {
    if (!active) {
      setAnswer(null);
      return undefined;
    }
    let current = true;
    setAnswer('checking');
    const timer = setTimeout(() => {
      postCheck(path, body).then((reply) => current && setAnswer(reply || 'failed'));
    }, CHECK_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [key, active]);
  return answer;
}

function codeProblems(answer) {
  if (answer === 'checking') {
    return html`<span class="kitas-check kitas-check-pending">${t('checking')}</span>`;
  }
  if (answer === 'failed') {
    return html`<span class="kitas-check kitas-check-failed">${t('check_failed')}</span>`;
  }
  if (!answer) {
    return null;
  }
  if (answer.ok) {
    return html`<span class="kitas-check kitas-check-ok" data-testid="code-ok">${t('code_ok')}</span>`;
  }
  return html`<ul class="kitas-check kitas-check-problems" data-testid="code-problems">
    ${answer.problems.map(
      (p) => html`<li>${p.line ? `${t('line')} ${p.line}: ` : ''}${p.message}</li>`
    )}
  </ul>`;
}

// A code text area checked against the sandbox as the analyst types (kind: "script" | "condition").
export function CodeEntry(props) {
  const { element, id, label, kind, getValue, setValue } = props;
  const { debounce } = services();
  const value = getValue(element) || '';
  // An empty script or condition is checked at deployment (a flow may need none); typed code is checked now.
  const answer = useCheck('/studio/check/script', { code: value, kind }, Boolean(value.trim()));
  return html`<${TextAreaEntry}
    id=${id}
    element=${element}
    label=${label}
    monospace=${true}
    rows=${kind === 'condition' ? 2 : 6}
    autoResize=${true}
    getValue=${() => value}
    setValue=${setValue}
    debounce=${debounce}
    description=${codeProblems(answer)}
  />`;
}

export function PropertyEntry(props) {
  const { element, id, label, name, description } = props;
  const all = services();
  return html`<${TextFieldEntry}
    id=${id}
    element=${element}
    label=${label}
    description=${description}
    getValue=${() => getProperty(element, name)}
    setValue=${(value) => setProperty(element, name, value, all)}
    debounce=${all.debounce}
  />`;
}

export function FormFileEntry(props) {
  const { element, id, label, name, known } = props;
  const all = services();
  return html`<${SelectEntry}
    id=${id}
    element=${element}
    label=${label}
    getValue=${() => getProperty(element, name)}
    setValue=${(value) => setProperty(element, name, value, all)}
    getOptions=${() => options(known(), getProperty(element, name))}
  />`;
}

export function FormEditorLink(props) {
  const { element } = props;
  const schema = getProperty(element, 'formJsonSchemaFilename');
  if (!schema || !draftContext.form_editor_url) {
    return null;
  }
  const href = draftContext.form_editor_url + encodeURIComponent(schema);
  return html`<div class="bio-properties-panel-entry" data-entry-id="kitas-form-editor">
    <a class="kitas-form-editor-link" href=${href} data-testid="open-form-editor">${t('open_form_editor')}</a>
  </div>`;
}

export function LaneRoleEntry(props) {
  const { element } = props;
  const name = getBusinessObject(element).name || '';
  const role = draftContext.lanes[name];
  return html`<div class="bio-properties-panel-entry" data-entry-id="kitas-lane-role">
    <div class="bio-properties-panel-label">${t('lane_role')}</div>
    <div data-testid="lane-role">${role || t('no_role')}</div>
    ${!role && draftContext.loaded
      ? html`<div class="bio-properties-panel-description kitas-check-problems">${t('lane_unknown')}</div>`
      : null}
  </div>`;
}

export function LaneNameEntry(props) {
  const { element, id } = props;
  const { modeling } = services();
  const name = getBusinessObject(element).name || '';
  return html`<${SelectEntry}
    id=${id}
    element=${element}
    label=${t('lane_name')}
    getValue=${() => name}
    setValue=${(value) => value && modeling.updateProperties(element, { name: value })}
    getOptions=${() => options(Object.keys(draftContext.lanes), name)}
  />`;
}

export function ScriptEntry(props) {
  const { element, id } = props;
  const { modeling } = services();
  const bo = getBusinessObject(element);
  return html`<${CodeEntry}
    id=${id}
    element=${element}
    label=${t('script')}
    kind="script"
    getValue=${() => bo.script || ''}
    setValue=${(value) => modeling.updateProperties(element, { script: value || '', scriptFormat: bo.scriptFormat || 'python' })}
  />`;
}

export function ExtensionScriptEntry(props) {
  const { element, id, type, label } = props;
  const all = services();
  return html`<${CodeEntry}
    id=${id}
    element=${element}
    label=${label}
    kind="script"
    getValue=${() => getBody(element, type)}
    setValue=${(value) => setBody(element, type, value, all)}
  />`;
}

export function ConditionEntry(props) {
  const { element, id } = props;
  const { bpmnFactory, modeling } = services();
  const bo = getBusinessObject(element);
  const setValue = (value) => {
    if (!value || !value.trim()) {
      modeling.updateProperties(element, { conditionExpression: undefined });
      return;
    }
    const expression = bpmnFactory.create('bpmn:FormalExpression', { body: value });
    modeling.updateProperties(element, { conditionExpression: expression });
  };
  return html`<${CodeEntry}
    id=${id}
    element=${element}
    label=${t('condition')}
    kind="condition"
    getValue=${() => (bo.conditionExpression && bo.conditionExpression.body) || ''}
    setValue=${setValue}
  />`;
}

// -- timers: the expression is Python (decision 6); a plain ISO value is written quoted, "P7D".

const TIMER_FIELDS = { duration: 'timeDuration', date: 'timeDate', cycle: 'timeCycle' };
const QUOTED = /^\s*(["'])([^"'\\]*)\1\s*$/;
const expressionMode = new Map(); // element id -> true when the analyst chose to write an expression

function timerOf(element) {
  return eventDefinition(element, 'bpmn:TimerEventDefinition');
}

export function timerKind(definition) {
  return Object.keys(TIMER_FIELDS).find((kind) => definition[TIMER_FIELDS[kind]]) || 'duration';
}

function timerExpression(definition) {
  const field = definition[TIMER_FIELDS[timerKind(definition)]];
  return (field && field.body) || '';
}

function isExpression(element, definition) {
  const chosen = expressionMode.get(element.id);
  if (chosen !== undefined) {
    return chosen;
  }
  const text = timerExpression(definition);
  return Boolean(text.trim()) && !QUOTED.test(text);
}

function writeTimer(element, definition, kind, body, { bpmnFactory, modeling }) {
  const properties = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
  properties[TIMER_FIELDS[kind]] = bpmnFactory.create('bpmn:FormalExpression', { body });
  modeling.updateModdleProperties(element, definition, properties);
}

export function TimerTypeEntry(props) {
  const { element, id } = props;
  const all = services();
  const definition = timerOf(element);
  return html`<${SelectEntry}
    id=${id}
    element=${element}
    label=${t('timer_type')}
    getValue=${() => timerKind(definition)}
    setValue=${(kind) => writeTimer(element, definition, kind, timerExpression(definition), all)}
    getOptions=${() => [
      { value: 'duration', label: t('timer_duration') },
      { value: 'date', label: t('timer_date') },
      { value: 'cycle', label: t('timer_cycle') }
    ]}
  />`;
}

export function TimerModeEntry(props) {
  const { element, id } = props;
  const all = services();
  const definition = timerOf(element);
  const setValue = (checked) => {
    expressionMode.set(element.id, checked);
    const text = timerExpression(definition);
    const match = QUOTED.exec(text);
    if (!checked && text && !match) {
      writeTimer(element, definition, timerKind(definition), '', all); // an expression is no ISO value
    } else {
      writeTimer(element, definition, timerKind(definition), text, all); // re-render with the new mode
    }
  };
  return html`<${CheckboxEntry}
    id=${id}
    element=${element}
    label=${t('timer_expression')}
    getValue=${() => isExpression(element, definition)}
    setValue=${setValue}
  />`;
}

export function TimerValueEntry(props) {
  const { element, id } = props;
  const all = services();
  const definition = timerOf(element);
  const kind = timerKind(definition);
  const expression = isExpression(element, definition);
  const text = timerExpression(definition);
  const match = QUOTED.exec(text);
  const shown = expression ? text : match ? match[2] : text;
  const attached = is(element, 'bpmn:BoundaryEvent');
  const answer = useCheck(
    expression ? '/studio/check/script' : '/studio/check/timer',
    expression ? { code: shown, kind: 'condition' } : { kind, text: shown, attached },
    true
  );
  let description = null;
  if (answer === 'checking' || answer === 'failed' || !answer) {
    description = codeProblems(answer);
  } else if (expression) {
    description = answer.ok
      ? html`<span class="kitas-check kitas-check-ok">${t('timer_expression_words')}</span>`
      : codeProblems(answer);
  } else if (answer.ok) {
    description = html`<span class="kitas-check kitas-check-ok" data-testid="timer-words">${answer.words}</span>`;
  } else {
    description = html`<span class="kitas-check kitas-check-problems" data-testid="timer-problem">${answer.problem}</span>`;
  }
  const setValue = (value) => {
    const plain = (value || '').trim();
    writeTimer(element, definition, kind, expression ? value || '' : plain ? JSON.stringify(plain) : '', all);
  };
  return html`<${TextFieldEntry}
    id=${id}
    element=${element}
    label=${expression ? t('timer_expression_value') : t('timer_value')}
    getValue=${() => shown}
    setValue=${setValue}
    debounce=${all.debounce}
    description=${description}
  />`;
}

// -- messages, calls, decisions

function messageHolder(element) {
  const bo = getBusinessObject(element);
  return is(bo, 'bpmn:ReceiveTask') || is(bo, 'bpmn:SendTask') ? bo : eventDefinition(element, 'bpmn:MessageEventDefinition');
}

export function MessageNameEntry(props) {
  const { element, id } = props;
  const { bpmnFactory, modeling, debounce } = services();
  const holder = messageHolder(element);
  const setValue = (value) => {
    const name = (value || '').trim();
    if (!name) {
      modeling.updateModdleProperties(element, holder, { messageRef: undefined });
      return;
    }
    let bo = getBusinessObject(element);
    while (bo && !is(bo, 'bpmn:Definitions')) {
      bo = bo.$parent;
    }
    let message = (bo.rootElements || []).find((root) => is(root, 'bpmn:Message') && root.name === name);
    if (!message) {
      message = bpmnFactory.create('bpmn:Message', { name, id: `message_${name.replace(/[^A-Za-z0-9_]/g, '_')}` });
      message.$parent = bo;
      modeling.updateModdleProperties(element, bo, { rootElements: [...(bo.rootElements || []), message] });
    }
    modeling.updateModdleProperties(element, holder, { messageRef: message });
  };
  return html`<${TextFieldEntry}
    id=${id}
    element=${element}
    label=${t('message_name')}
    getValue=${() => (holder.messageRef && holder.messageRef.name) || ''}
    setValue=${setValue}
    debounce=${debounce}
  />`;
}

export function MessageVariableEntry(props) {
  const { element, id } = props;
  const all = services();
  return html`<${TextFieldEntry}
    id=${id}
    element=${element}
    label=${t('message_variable')}
    getValue=${() => getBody(element, 'spiffworkflow:MessageVariable')}
    setValue=${(value) => setBody(element, 'spiffworkflow:MessageVariable', value, all)}
    debounce=${all.debounce}
  />`;
}

export function CalledElementEntry(props) {
  const { element, id } = props;
  const { modeling } = services();
  const bo = getBusinessObject(element);
  const getOptions = () => {
    const current = bo.calledElement || '';
    const shared = draftContext.shared_steps;
    const local = processesInFile(element).filter((p) => !shared.includes(p));
    const known = [...shared, ...local];
    const list = [{ value: '', label: t('none') }];
    if (current && !known.includes(current)) {
      list.push({ value: current, label: current });
    }
    shared.forEach((p) => list.push({ value: p, label: `${p} — ${t('shared_steps')}` }));
    local.forEach((p) => list.push({ value: p, label: `${p} — ${t('processes_in_file')}` }));
    return list;
  };
  return html`<${SelectEntry}
    id=${id}
    element=${element}
    label=${t('called_element')}
    getValue=${() => bo.calledElement || ''}
    setValue=${(value) => modeling.updateProperties(element, { calledElement: value || undefined })}
    getOptions=${getOptions}
  />`;
}

export function DecisionEntry(props) {
  const { element, id } = props;
  const all = services();
  const type = 'spiffworkflow:CalledDecisionId';
  return html`<${SelectEntry}
    id=${id}
    element=${element}
    label=${t('decision_id')}
    getValue=${() => getBody(element, type)}
    setValue=${(value) => setBody(element, type, value, all)}
    getOptions=${() => options(draftContext.decisions, getBody(element, type))}
  />`;
}
