// Reading and writing the spiffworkflow extension elements the engine reads (engine/spec.py):
// <spiffworkflow:properties><spiffworkflow:property name value/></spiffworkflow:properties>, and the
// elements whose text is their value (calledDecisionId, preScript, postScript, messageVariable).

import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

function extensionValues(bo) {
  return (bo.extensionElements && bo.extensionElements.values) || [];
}

function propertiesOf(bo) {
  return extensionValues(bo).find((value) => is(value, 'spiffworkflow:Properties'));
}

export function getProperty(element, name) {
  const properties = propertiesOf(getBusinessObject(element));
  const found = properties && (properties.properties || []).find((p) => p.name === name);
  return found ? found.value || '' : '';
}

function create(bpmnFactory, type, attrs, parent) {
  const created = bpmnFactory.create(type, attrs);
  created.$parent = parent;
  return created;
}

function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

function run(commandStack, commands) {
  if (commands.length) {
    commandStack.execute('properties-panel.multi-command-executor', commands);
  }
}

// The extensionElements of the element, created (with the commands that add it) when missing.
function ensureExtensions(element, bpmnFactory, commands) {
  const bo = getBusinessObject(element);
  if (bo.extensionElements) {
    return bo.extensionElements;
  }
  const extensions = create(bpmnFactory, 'bpmn:ExtensionElements', { values: [] }, bo);
  commands.push(update(element, bo, { extensionElements: extensions }));
  return extensions;
}

// Set (or, with an empty value, remove) one spiffworkflow:property of the element.
export function setProperty(element, name, value, { bpmnFactory, commandStack }) {
  const commands = [];
  const bo = getBusinessObject(element);
  const text = (value || '').trim();
  let properties = propertiesOf(bo);
  const existing = properties && (properties.properties || []).find((p) => p.name === name);
  if (!text) {
    if (existing) {
      commands.push(update(element, properties, { properties: properties.properties.filter((p) => p !== existing) }));
    }
    return run(commandStack, commands);
  }
  if (existing) {
    commands.push(update(element, existing, { value: text }));
    return run(commandStack, commands);
  }
  const extensions = ensureExtensions(element, bpmnFactory, commands);
  if (!properties) {
    properties = create(bpmnFactory, 'spiffworkflow:Properties', { properties: [] }, extensions);
    commands.push(update(element, extensions, { values: [...(extensions.values || []), properties] }));
  }
  const property = create(bpmnFactory, 'spiffworkflow:Property', { name, value: text }, properties);
  commands.push(update(element, properties, { properties: [...(properties.properties || []), property] }));
  run(commandStack, commands);
}

// The text of a spiffworkflow element such as calledDecisionId ('spiffworkflow:CalledDecisionId').
export function getBody(element, type) {
  const found = extensionValues(getBusinessObject(element)).find((value) => is(value, type));
  return found ? found.value || '' : '';
}

export function setBody(element, type, value, { bpmnFactory, commandStack }) {
  const commands = [];
  const bo = getBusinessObject(element);
  const existing = extensionValues(bo).find((item) => is(item, type));
  const text = value || '';
  if (!text.trim()) {
    if (existing) {
      const extensions = bo.extensionElements;
      commands.push(update(element, extensions, { values: extensions.values.filter((item) => item !== existing) }));
    }
    return run(commandStack, commands);
  }
  if (existing) {
    commands.push(update(element, existing, { value: text }));
    return run(commandStack, commands);
  }
  const extensions = ensureExtensions(element, bpmnFactory, commands);
  const created = create(bpmnFactory, type, { value: text }, extensions);
  commands.push(update(element, extensions, { values: [...(extensions.values || []), created] }));
  run(commandStack, commands);
}

export function eventDefinition(element, type) {
  const bo = getBusinessObject(element);
  return (bo.eventDefinitions || []).find((definition) => is(definition, type));
}

export function definitionsOf(element) {
  let bo = getBusinessObject(element);
  while (bo && !is(bo, 'bpmn:Definitions')) {
    bo = bo.$parent;
  }
  return bo;
}

// The ids of the processes the file defines (a call activity may call them), but the element's own.
export function processesInFile(element) {
  const definitions = definitionsOf(element);
  let own = getBusinessObject(element);
  while (own && !is(own, 'bpmn:Process')) {
    own = own.$parent;
  }
  return ((definitions && definitions.rootElements) || [])
    .filter((root) => is(root, 'bpmn:Process') && root !== own)
    .map((root) => root.id);
}
