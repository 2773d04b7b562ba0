"""The studio's blueprint: for analysts (and admins), who sign in with a second factor."""

from flask import Blueprint

from ..access import require_roles

bp = Blueprint("studio", __name__, url_prefix="/studio")
require_roles(bp, "analyst", "admin")
