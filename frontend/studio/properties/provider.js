// The KITAS properties provider: adds the groups for what the engine reads to bpmn-js-properties-panel's own.

import { isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { draftContext, loadContext, t } from './context.js';
import {
  CalledElementEntry,
  ConditionEntry,
  DecisionEntry,
  ExtensionScriptEntry,
  FormEditorLink,
  FormFileEntry,
  LaneNameEntry,
  LaneRoleEntry,
  MessageNameEntry,
  MessageVariableEntry,
  PropertyEntry,
  ScriptEntry,
  TimerModeEntry,
  TimerTypeEntry,
  TimerValueEntry
} from './entries.js';
import { eventDefinition } from './model.js';

const LOW_PRIORITY = 500;
// Our group id -> the group of bpmn-js-properties-panel's own provider it replaces.
const REPLACES = { 'kitas-timer': 'timer', 'kitas-message': 'message' };

// The KITAS groups open by default: they hold what the engine needs.
function group(id, label, entries) {
  return { id, label, entries, shouldOpen: true };
}

function entry(id, component, extra = {}) {
  return { id, component, ...extra };
}

function laneGroup(element) {
  const entries = [entry('kitas-lane-role', LaneRoleEntry)];
  const name = getBusinessObject(element).name || '';
  if (draftContext.loaded && !(name in draftContext.lanes)) {
    entries.push(entry('kitas-lane-name', LaneNameEntry, { isEdited: isSelectEntryEdited }));
  }
  return group('kitas-lane', t('kitas'), entries);
}

function formGroup() {
  return group('kitas-form', t('form'), [
    entry('kitas-form-schema', FormFileEntry, {
      isEdited: isSelectEntryEdited,
      label: t('form_schema'),
      name: 'formJsonSchemaFilename',
      known: () => draftContext.forms.schemas
    }),
    entry('kitas-form-ui-schema', FormFileEntry, {
      isEdited: isSelectEntryEdited,
      label: t('form_ui_schema'),
      name: 'formUiSchemaFilename',
      known: () => draftContext.forms.ui_schemas
    }),
    entry('kitas-form-editor', FormEditorLink)
  ]);
}

function kitasGroup(element) {
  const entries = [
    entry('kitas-status', PropertyEntry, { isEdited: isTextFieldEntryEdited, label: t('status'), name: 'status', description: t('status_help') })
  ];
  if (is(element, 'bpmn:UserTask') || is(element, 'bpmn:CallActivity')) {
    entries.push(
      entry('kitas-four-eyes', PropertyEntry, {
        isEdited: isTextFieldEntryEdited,
        label: t('four_eyes'),
        name: 'notByPerformerOf',
        description: t('four_eyes_help')
      })
    );
  }
  return group('kitas-properties', t('kitas'), entries);
}

function scriptGroup(element) {
  const entries = [];
  if (is(element, 'bpmn:ScriptTask')) {
    entries.push(entry('kitas-script', ScriptEntry, { isEdited: isTextAreaEntryEdited }));
  }
  entries.push(
    entry('kitas-pre-script', ExtensionScriptEntry, {
      isEdited: isTextAreaEntryEdited, type: 'spiffworkflow:PreScript', label: t('pre_script') }),
    entry('kitas-post-script', ExtensionScriptEntry, {
      isEdited: isTextAreaEntryEdited, type: 'spiffworkflow:PostScript', label: t('post_script') })
  );
  return group('kitas-script', t('script'), entries);
}

function isConditional(element) {
  if (!is(element, 'bpmn:SequenceFlow')) {
    return false;
  }
  const bo = getBusinessObject(element);
  const source = bo.sourceRef;
  if (bo.conditionExpression) {
    return true;
  }
  const isDefault = source && source.default === bo;
  return Boolean(source) && !isDefault && (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway'));
}

function timerGroup() {
  return group('kitas-timer', t('timer'), [
    entry('kitas-timer-type', TimerTypeEntry),
    entry('kitas-timer-mode', TimerModeEntry),
    entry('kitas-timer-value', TimerValueEntry, { isEdited: isTextFieldEntryEdited })
  ]);
}

function hasMessage(element) {
  return is(element, 'bpmn:ReceiveTask') || is(element, 'bpmn:SendTask') || Boolean(eventDefinition(element, 'bpmn:MessageEventDefinition'));
}

function messageGroup(element) {
  const entries = [entry('kitas-message-name', MessageNameEntry, { isEdited: isTextFieldEntryEdited })];
  const catches = is(element, 'bpmn:ReceiveTask') || is(element, 'bpmn:CatchEvent');
  if (catches) {
    entries.push(entry('kitas-message-variable', MessageVariableEntry, { isEdited: isTextFieldEntryEdited }));
  }
  return group('kitas-message', t('message'), entries);
}

// The groups KITAS adds for one element, in the order the analyst needs them.
export function kitasGroups(element) {
  const groups = [];
  if (is(element, 'bpmn:Lane')) {
    groups.push(laneGroup(element));
  }
  if (is(element, 'bpmn:UserTask')) {
    groups.push(formGroup());
  }
  if (is(element, 'bpmn:CallActivity')) {
    groups.push(group('kitas-call', t('call'), [entry('kitas-called-element', CalledElementEntry, { isEdited: isSelectEntryEdited })]));
  }
  if (is(element, 'bpmn:BusinessRuleTask')) {
    groups.push(group('kitas-decision', t('decision'), [entry('kitas-decision-id', DecisionEntry, { isEdited: isSelectEntryEdited })]));
  }
  if (is(element, 'bpmn:Activity') && !is(element, 'bpmn:SubProcess')) {
    groups.push(scriptGroup(element));
  }
  if (isConditional(element)) {
    groups.push(group('kitas-condition', t('condition'), [entry('kitas-condition', ConditionEntry, { isEdited: isTextAreaEntryEdited })]));
  }
  if (eventDefinition(element, 'bpmn:TimerEventDefinition')) {
    groups.push(timerGroup());
  }
  if (hasMessage(element)) {
    groups.push(messageGroup(element));
  }
  if (is(element, 'bpmn:FlowNode')) {
    groups.push(kitasGroup(element));
  }
  return groups;
}

export default function KitasPropertiesProvider(propertiesPanel, eventBus) {
  this.getGroups = function (element) {
    return function (groups) {
      const own = kitasGroups(element);
      // Ours write what the engine reads (a timer's quoted expression, the message by name); the plain
      // panel's groups of the same name would edit the same values a second way.
      const replaced = new Set(own.map((g) => REPLACES[g.id]).filter(Boolean));
      return [...groups.filter((g) => !replaced.has(g.id)), ...own];
    };
  };
  propertiesPanel.registerProvider(LOW_PRIORITY, this);
  // Re-draw the panel when the draft's context (lanes, forms, labels...) has arrived.
  loadContext(() => eventBus.fire('propertiesPanel.providersChanged'));
}

KitasPropertiesProvider.$inject = ['propertiesPanel', 'eventBus'];
