"""Group applications: a sponsor (a company or a person) starts the applications of several people at
once (a family, a team). The sponsor gives the sponsor data once and a list of people; each person gets
a case of the type, started in one transaction with the shared data, held by the sponsor, who fills the
members' steps on the applicant's pages (a child, a new hire without an account: the sponsor gathers their
passports anyway). The sponsor confirms the guarantee once for every member waiting for it, follows all
of them on one page, and, when the payment provider can, pays every member's fee with one billing code.
The individual sponsor's limit (cases/sponsor_limits.py) is checked for the whole group. Calls cases/,
payments/ and audit/.
"""

from .start import GroupForm, GroupRejected, group_form, start_group, startable_group_types
from .views import (
    ConfirmOutcome,
    GroupPage,
    GroupPaymentPage,
    MemberRow,
    MyGroups,
    confirm_group,
    find_group,
    group_page,
    group_payment_page,
    my_groups,
    my_groups_page,
    pay_group,
)

__all__ = [
    "ConfirmOutcome",
    "GroupForm",
    "GroupPage",
    "GroupPaymentPage",
    "GroupRejected",
    "MemberRow",
    "MyGroups",
    "confirm_group",
    "find_group",
    "group_form",
    "group_page",
    "group_payment_page",
    "my_groups",
    "my_groups_page",
    "pay_group",
    "start_group",
    "startable_group_types",
]
