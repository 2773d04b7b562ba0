from __future__ import annotations
from pathlib import Path
from typing import Any
import pytest
from kitas.extensions import db
from tests.web.test_officer_wording import _worked_case
from tests.web.pages import open_task_row

pytestmark = pytest.mark.usefixtures("worker")
OUT = Path("/tmp/wording/shots")
STATIC = Path(__file__).resolve().parents[2] / "kitas" / "static"


def test_dump(users: dict[str, Any], login_as: Any, clock: Any) -> None:
    app = _worked_case(users, login_as, clock)
    task = open_task_row(app.id, "verify_documents")
    for lang in ("id", "en"):
        for who in ("verifier", "admin"):
            users[who].language = lang
        db.session.commit()
        c = login_as(users["verifier"])
        pages = {"inbox": "/officer/", "task": f"/officer/cases/{app.reference}/tasks/{task.task_id}", "case": f"/officer/cases/{app.reference}"}
        for name, url in pages.items():
            html = c.get(url).get_data(as_text=True).replace('"/static/', f'"file://{STATIC}/')
            (OUT / f"{name}-{lang}.html").write_text(html)
        a = login_as(users["admin"])
        html = a.get(f"/admin/cases/{app.reference}").get_data(as_text=True).replace('"/static/', f'"file://{STATIC}/')
        (OUT / f"admin-{lang}.html").write_text(html)
