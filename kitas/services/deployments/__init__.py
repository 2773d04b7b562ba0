"""Versioned deployments of diagrams, their forms and decision tables, and the parsed process model of
a deployed version. Calls audit/.
"""

from .versions import (
    DeployResult,
    collect_files,
    definition_form,
    deploy,
    deploy_all,
    deploy_path,
    element_name,
    element_names,
    latest_definition,
    process_model,
    texts_file,
)

__all__ = [
    "DeployResult",
    "collect_files",
    "definition_form",
    "deploy",
    "deploy_all",
    "deploy_path",
    "element_name",
    "element_names",
    "latest_definition",
    "process_model",
    "texts_file",
]
