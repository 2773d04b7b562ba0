"""The supervisors' dashboard and the SLA shown on officers' tasks, read from the projections only.

``figures.py`` the work in hand (open tasks per step and office, late tasks per officer) and the
figures' common shape; ``throughput.py`` the figures of the ``case_milestone`` projection (working days
from payment to decision, decisions per officer and week, arrivals and completions, corrections);
``page.py`` the page and each figure by key; ``chart.py`` the SVG of arrivals against completions;
``late.py`` the late work per officer and the SLA of one task. Nothing here restores a workflow.
"""

from .figures import Figure, require_supervisor
from .late import LateWork, late_work, task_sla
from .page import FIGURES, Dashboard, dashboard, figure

__all__ = [
    "FIGURES",
    "Dashboard",
    "Figure",
    "LateWork",
    "dashboard",
    "figure",
    "late_work",
    "require_supervisor",
    "task_sla",
]
