// The studio's properties panel for what the KITAS engine reads (spiffworkflow extension elements, as
// SpiffArena writes them): modeler.js passes spiffModules to bpmn-js as additionalModules and spiffModdle
// as moddleExtensions, beside bpmn-js-properties-panel's BpmnPropertiesPanelModule and
// BpmnPropertiesProviderModule.

import KitasPropertiesProvider from './provider.js';
import spiffworkflow from './spiffworkflow.json';

const kitasPropertiesModule = {
  __init__: ['kitasPropertiesProvider'],
  kitasPropertiesProvider: ['type', KitasPropertiesProvider]
};

export const spiffModules = [kitasPropertiesModule];

export const spiffModdle = { spiffworkflow };
