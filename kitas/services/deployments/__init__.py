"""Versioned deployments of diagrams, their forms and decision tables, and the parsed process model of
a deployed version. Calls audit/.
"""

from .versions import (
    CALLED,
    DeployResult,
    called_diagrams,
    check_deployable,
    collect_files,
    definition_form,
    deploy,
    deploy_all,
    deploy_extra_types,
    deploy_in_transaction,
    deploy_path,
    deploy_trial,
    element_name,
    element_names,
    latest_definition,
    make_current,
    process_model,
    texts_file,
)

__all__ = [
    "CALLED",
    "DeployResult",
    "called_diagrams",
    "check_deployable",
    "collect_files",
    "definition_form",
    "deploy",
    "deploy_all",
    "deploy_extra_types",
    "deploy_in_transaction",
    "deploy_path",
    "deploy_trial",
    "element_name",
    "element_names",
    "latest_definition",
    "make_current",
    "process_model",
    "texts_file",
]
