"""KITAS Online: the Flask application around the BPMN engine."""
