"""Versioned deployments of diagrams, their forms and decision tables, and the parsed process model of
a deployed version. versions.py deploys (and checks without deploying), files.py reads a checkout's files,
reading.py what pages read of a version, rollback.py makes an older version current again, trials.py
stores the studio's trial versions. Calls audit/.
"""

from .files import collect_files, deploy_all, deploy_extra_types, deploy_path
from .reading import definition_form, element_name, element_names, process_model
from .rollback import make_current
from .trials import deploy_trial
from .versions import (
    CALLED,
    DeployResult,
    called_diagrams,
    check_deployable,
    deploy,
    deploy_in_transaction,
    latest_definition,
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
