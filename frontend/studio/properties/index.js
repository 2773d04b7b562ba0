// PLACEHOLDER until the "props" helper's branch merges: their file replaces this one.
// spiffModules: extra bpmn-js modules (the custom properties provider); spiffModdle: the spiffworkflow moddle extension.
export const spiffModules = [];
export const spiffModdle = {};
