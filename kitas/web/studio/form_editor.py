"""The studio's form editor: a draft's forms listed, each edited raw or field by field, with a live preview."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from kitas.i18n import in_language
from kitas.services.errors import Conflict, InvalidInput
from kitas.services.studio import form_editing
from kitas.services.studio.form_editing import FieldChange, FormEditor, FormRefused, FormTexts, Preview

from ..access import signed_in_user
from ..text import said
from .blueprint import bp

# The editor's own inputs start with this, so a form field of any name cannot collide with them.
PREFIX = "studio:"


@bp.get("/drafts/<int:draft_id>/files")
def draft_files(draft_id: int) -> ResponseReturnValue:
    """The forms and decision tables of a draft, each a link to its editor."""
    draft, form_names, decision_names = form_editing.draft_files(draft_id)
    return render_template(
        "studio/draft_files.html", draft=draft, forms=form_names, decisions=decision_names, errors={}, typed=""
    )


@bp.get("/drafts/<int:draft_id>/new-form")
def new_form(draft_id: int) -> ResponseReturnValue:
    """A new form of the draft: its editor opens on a starter form under the typed name."""
    typed = request.args.get("name", "")
    try:
        name = form_editing.new_form_name(draft_id, typed)
    except InvalidInput as exc:
        draft, form_names, decision_names = form_editing.draft_files(draft_id)
        return render_template(
            "studio/draft_files.html",
            draft=draft,
            forms=form_names,
            decisions=decision_names,
            errors=exc.errors,
            typed=typed,
        ), 422
    return redirect(url_for("studio.form_editor", draft_id=draft_id, name=name))


@bp.route("/drafts/<int:draft_id>/forms/<name>", methods=["GET", "POST"])
def form_editor(draft_id: int, name: str) -> ResponseReturnValue:
    """The editor; a post saves (a field added, changed or removed first) or, without JavaScript, previews."""
    if request.method == "GET":
        editor = form_editing.open_form(draft_id, name)
        return _page(editor, form_editing.preview_form(draft_id, name, editor.texts, {}, _language()))
    texts = _texts()
    action = request.form.get(PREFIX + "action", "save")
    if action in ("preview", "check"):
        preview = form_editing.preview_form(draft_id, name, texts, _sample(), _language(), check=action == "check")
        return _page(form_editing.open_form(draft_id, name, texts, _revision()), preview)
    operation, _sep, field_name = action.partition(":")
    try:
        editor = form_editing.edit_form(
            draft_id,
            name,
            _revision(),
            signed_in_user(),
            texts,
            add=_change("new") if operation == "add" else None,
            change=_change(f"field:{field_name}", field_name) if operation == "change" else None,
            remove=field_name if operation == "remove" else None,
        )
    except FormRefused as exc:
        return _page(exc.editor, form_editing.preview_form(draft_id, name, texts, _sample(), _language()), 422)
    except Conflict as exc:
        editor = form_editing.open_form(draft_id, name, texts, _revision())
        editor.errors[""] = [said(exc)]
        return _page(editor, form_editing.preview_form(draft_id, name, texts, _sample(), _language()), 409)
    flash(_("The form was saved to the draft."), "success")
    return redirect(url_for("studio.form_editor", draft_id=editor.draft.id, name=name))


@bp.post("/drafts/<int:draft_id>/forms/<name>/preview")
def form_preview(draft_id: int, name: str) -> ResponseReturnValue:
    """The preview partial (htmx): the typed form in the chosen language, the sample data checked on asking."""
    check = request.form.get(PREFIX + "check") == "1"
    preview = form_editing.preview_form(draft_id, name, _texts(), _sample(), _language(), check=check)
    return _preview_html(preview)


def _page(editor: FormEditor, preview: Preview, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "studio/form_editor.html",
            editor=editor,
            preview=_preview_html(preview),
            language=preview.language,
            kinds=form_editing.FIELD_KINDS,
            prefix=PREFIX,
        ),
        status,
    )


def _preview_html(preview: Preview) -> Markup:
    """The preview rendered in its own language: the form's texts, the macro's words and the errors."""
    with in_language(preview.language):
        return Markup(render_template("studio/form_preview.html", preview=preview))  # noqa: S704 - our template


def _texts() -> FormTexts:
    form = request.form
    return FormTexts(
        schema=form.get(PREFIX + "schema", ""),
        ui_schema=form.get(PREFIX + "ui_schema", ""),
        schema_texts=form.get(PREFIX + "schema_texts", "") or "{}",
        ui_texts=form.get(PREFIX + "ui_texts", "") or "{}",
    )


def _sample() -> dict[str, str | list[str]]:
    """The preview's inputs: everything posted that is not the editor's own."""
    return {
        key: values
        for key, values in request.form.to_dict(flat=False).items()
        if not key.startswith(PREFIX) and key != "csrf_token"
    }


def _language() -> str:
    return request.values.get(PREFIX + "language", "en")


def _revision() -> int:
    try:
        return int(request.form.get(PREFIX + "revision", ""))
    except ValueError:
        return -1


def _change(prefix: str, name: str | None = None) -> FieldChange:
    form = request.form

    def value(key: str) -> str:
        return form.get(f"{PREFIX}{prefix}:{key}", "")

    return FieldChange(
        name=name if name is not None else value("name").strip(),
        kind=value("kind") or "string",
        required=value("required") == "1",
        title=value("title"),
        title_id=value("title_id"),
        help=value("help"),
        help_id=value("help_id"),
        choices=value("choices"),
    )
