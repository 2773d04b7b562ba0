"""Deploy with four eyes: propose a draft or an older version, review proposals, compare versions."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.i18n import translate
from kitas.services.errors import Conflict, DeploymentRefused, Forbidden, InvalidInput
from kitas.services.studio import review

from ..access import signed_in_user
from .blueprint import bp


def _xml(text: str) -> Response:
    return Response(text, mimetype="application/xml")


@bp.get("/drafts/<int:draft_id>/propose")
def propose_form(draft_id: int) -> ResponseReturnValue:
    """What proposing the draft would deploy (its difference with the current version), and the form."""
    return render_template(
        "studio/propose.html", view=review.propose_view(draft_id), errors={}, problems=[], comment=""
    )


@bp.post("/drafts/<int:draft_id>/propose")
def propose_draft(draft_id: int) -> ResponseReturnValue:
    """Propose the draft with a comment; refused with deployment's problems, the comment kept."""
    comment = request.form.get("comment", "")
    try:
        proposal = review.propose(draft_id, comment, signed_in_user())
    except (InvalidInput, DeploymentRefused, Conflict) as exc:
        errors = exc.errors if isinstance(exc, InvalidInput) else {}
        problems = exc.problems if isinstance(exc, DeploymentRefused) else []
        if isinstance(exc, Conflict):
            errors = {"comment": [exc.message]}
        view = review.propose_view(draft_id)
        return render_template("studio/propose.html", view=view, errors=errors, problems=problems, comment=comment), 422
    flash(_("Proposed. Another analyst or an administrator must approve it before it is deployed."), "success")
    return redirect(url_for("studio.proposal", proposal_id=proposal.id))


@bp.get("/proposals")
def proposals() -> ResponseReturnValue:
    """The proposals waiting for review, then the decided ones."""
    page = review.proposal_page(request.args.get("page", 1, type=int) or 1)
    return render_template("studio/proposals.html", page=page, user=signed_in_user())


def _proposal_page(proposal_id: int, status: int = 200, **form: object) -> ResponseReturnValue:
    values: dict[str, object] = {"errors": {}, "problems": [], "refusal": None, "review_comment": ""}
    values.update(form)
    view = review.proposal_view(proposal_id, signed_in_user())
    return render_template("studio/proposal.html", view=view, **values), status


@bp.get("/proposals/<int:proposal_id>")
def proposal(proposal_id: int) -> ResponseReturnValue:
    """A proposal: its comment, its difference with its base version, and the review forms."""
    return _proposal_page(proposal_id)


@bp.post("/proposals/<int:proposal_id>/approve")
def approve_proposal(proposal_id: int) -> ResponseReturnValue:
    """Approve (and so deploy) another person's proposal."""
    comment = request.form.get("review_comment", "")
    try:
        done = review.approve(proposal_id, signed_in_user(), comment)
    except InvalidInput as exc:
        return _proposal_page(proposal_id, 422, errors=exc.errors, review_comment=comment)
    except DeploymentRefused as exc:
        return _proposal_page(proposal_id, 422, problems=exc.problems, review_comment=comment)
    except (Conflict, Forbidden) as exc:
        status = 409 if isinstance(exc, Conflict) else 403
        return _proposal_page(proposal_id, status, refusal=translate(exc.message), review_comment=comment)
    flash(_("Approved and deployed: new cases start on this version; running cases keep theirs."), "success")
    return redirect(url_for("studio.proposal", proposal_id=done.id))


@bp.post("/proposals/<int:proposal_id>/reject")
def reject_proposal(proposal_id: int) -> ResponseReturnValue:
    """Reject another person's proposal with a comment; its draft opens again."""
    comment = request.form.get("review_comment", "")
    try:
        review.reject(proposal_id, signed_in_user(), comment)
    except InvalidInput as exc:
        return _proposal_page(proposal_id, 422, errors=exc.errors, review_comment=comment)
    except (Conflict, Forbidden) as exc:
        status = 409 if isinstance(exc, Conflict) else 403
        return _proposal_page(proposal_id, status, refusal=translate(exc.message), review_comment=comment)
    flash(_("Rejected. The draft is open again for its analyst."), "success")
    return redirect(url_for("studio.proposal", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/withdraw")
def withdraw_proposal(proposal_id: int) -> ResponseReturnValue:
    """The proposer withdraws a pending proposal; the draft opens again for editing."""
    try:
        done = review.withdraw(proposal_id, signed_in_user())
    except (Conflict, Forbidden) as exc:
        status = 409 if isinstance(exc, Conflict) else 403
        return _proposal_page(proposal_id, status, refusal=translate(exc.message))
    flash(_("Withdrawn. The draft is open again."), "success")
    if done.draft_id is not None:
        return redirect(url_for("studio.draft", draft_id=done.draft_id))
    return redirect(url_for("studio.proposals"))


@bp.get("/processes/<process_id>/versions")
def versions(process_id: str) -> ResponseReturnValue:
    """Every deployed version of a process: who, when, comment, current or retired."""
    return render_template("studio/versions.html", process_id=process_id, versions=review.versions(process_id))


@bp.get("/processes/<process_id>/versions/<int:version>/rollback")
def rollback_form(process_id: str, version: int) -> ResponseReturnValue:
    """What proposing an older version again would bring back, and the form."""
    view = review.again_view(process_id, version)
    return render_template("studio/rollback.html", view=view, errors={}, comment="")


@bp.post("/processes/<process_id>/versions/<int:version>/rollback")
def rollback_version(process_id: str, version: int) -> ResponseReturnValue:
    """Propose an older version again; once another person approves, new cases start on it."""
    comment = request.form.get("comment", "")
    try:
        proposal = review.propose_version_again(process_id, version, comment, signed_in_user())
    except InvalidInput as exc:
        view = review.again_view(process_id, version)
        return render_template("studio/rollback.html", view=view, errors=exc.errors, comment=comment), 422
    flash(_("Proposed. Another analyst or an administrator must approve the rollback."), "success")
    return redirect(url_for("studio.proposal", proposal_id=proposal.id))


@bp.get("/processes/<process_id>/diff")
def diff(process_id: str) -> ResponseReturnValue:
    """The difference between two deployed versions (``from`` and ``to``; by default the two latest)."""
    rows = review.versions(process_id)
    newest = rows[0].version
    to = request.args.get("to", newest, type=int) or newest
    old = request.args.get("from", to - 1, type=int) or 1
    before, after, changes = review.compare_versions(process_id, old, to)
    return render_template(
        "studio/diff.html", process_id=process_id, before=before, after=after, diff=changes, versions=rows
    )


@bp.get("/processes/<process_id>/versions/<int:version>.bpmn")
def version_xml(process_id: str, version: int) -> ResponseReturnValue:
    """A deployed version's diagram, for the diff's viewer."""
    return _xml(review.version_xml(process_id, version))


@bp.get("/proposals/<int:proposal_id>.bpmn")
def proposal_xml(proposal_id: int) -> ResponseReturnValue:
    """A proposal's frozen diagram, for the diff's viewer."""
    return _xml(review.proposal_xml(proposal_id))


@bp.get("/drafts/<int:draft_id>/review.bpmn")
def draft_xml(draft_id: int) -> ResponseReturnValue:
    """A draft's saved diagram, for the diff's viewer of the propose page."""
    return _xml(review.draft_xml(draft_id))
