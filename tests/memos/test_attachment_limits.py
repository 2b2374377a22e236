"""Attachments are bounded: a count per memo and a storage quota per office (both in office
settings), and removed files are deleted after the retention period unless a submitted
version names them."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select

from workflow import clock, routing
from workflow.admin import office_settings
from workflow.errors import Invalid
from workflow.extensions import db
from workflow.identity.principal import principal_for
from workflow.memos import attachments
from workflow.memos.actions import perform
from workflow.models import Attachment, Organization, User

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(api: Any, memo_id: int, data: bytes = PDF, name: str = "แผนงาน.pdf") -> Any:
    return api.call("POST", f"/memos/{memo_id}/attachments", "clerk",
                    data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _set(app: Flask, org_id: int, **values: Any) -> None:
    with app.app_context(), db.write() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        for name, value in values.items():
            setattr(org, name, value)


def test_a_memo_takes_no_more_files_than_the_office_allows(app: Flask, demo: dict[str, int],
                                                           api: Any) -> None:
    with app.app_context():
        admin = db.session.get(User, demo["user_admin"])
        assert admin is not None
        office_settings.update_settings(principal=principal_for(db.session, admin),
                                        changes={"attachments_per_memo": "๒"})
    memo_id = demo["memo_id"]
    first, second = upload(api, memo_id), upload(api, memo_id)
    assert first.status_code == second.status_code == 201
    third = upload(api, memo_id)
    assert third.status_code == 422 and third.json["error"] == "too_many_attachments"
    assert "ไม่เกิน ๒ ไฟล์" in third.json["message"]
    # Taking one off makes room again.
    with app.app_context():
        attachments.remove(memo_id=memo_id, attachment_id=first.json["id"],
                           actor_id=demo["user_clerk"])
    assert upload(api, memo_id).status_code == 201


def test_the_office_storage_quota_refuses_the_file_that_would_pass_it(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    _set(app, demo["org_id"], storage_quota_mb=1)
    memo_id = demo["memo_id"]
    # Under 500 KB each, so that the test client keeps the upload in memory.
    big = PDF + b"\n%" + b"x" * (400 * 1024)
    assert upload(api, memo_id, big).status_code == 201
    assert upload(api, memo_id, big + b"2").status_code == 201
    refused = upload(api, memo_id, big + b"3")
    assert refused.status_code == 422 and refused.json["error"] == "storage_full"
    with app.app_context():
        assert len(db.session.exec(select(Attachment)).all()) == 2  # nothing half-saved
    assert not list(Path(app.config["ATTACHMENT_DIR"]).glob("*.part"))


@pytest.mark.parametrize(("field", "value"), [("attachments_per_memo", "0"),
                                              ("attachments_per_memo", "201"),
                                              ("storage_quota_mb", "5"),
                                              ("storage_quota_mb", "สิบ")])
def test_bad_limits_are_refused_in_thai(app: Flask, demo: dict[str, int], field: str,
                                        value: str) -> None:
    with app.app_context():
        admin = db.session.get(User, demo["user_admin"])
        assert admin is not None
        with pytest.raises(Invalid) as refused:
            office_settings.update_settings(principal=principal_for(db.session, admin),
                                            changes={field: value})
        assert "ต้องเป็นจำนวนเต็ม" in refused.value.message
        org = db.session.get(Organization, demo["org_id"])
        assert org is not None and getattr(org, field) is None


def test_removed_files_are_purged_after_retention_unless_a_version_names_them(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    memo_id = demo["memo_id"]
    kept = upload(api, memo_id, PDF + b"% kept\n").json
    with app.app_context():
        perform(routing.SUBMIT, memo_id=memo_id, actor_id=demo["user_clerk"])
        perform(routing.SEND_BACK, memo_id=memo_id, actor_id=demo["user_head"],
                comment="กรุณาแก้ไข")
    dropped = upload(api, memo_id, PDF + b"% dropped\n").json
    folder = Path(app.config["ATTACHMENT_DIR"])
    with app.app_context():
        for row_id in (kept["id"], dropped["id"]):
            attachments.remove(memo_id=memo_id, attachment_id=row_id,
                               actor_id=demo["user_clerk"])
        assert attachments.purge_removed() == 0  # not yet past the retention period
        later = clock.now() + timedelta(days=app.config["ATTACHMENT_RETENTION_DAYS"] + 1)
        assert attachments.purge_removed(later) == 1
        rows = {row.id: row for row in db.session.exec(select(Attachment)).all()}
    assert rows[dropped["id"]].purged_at is not None
    assert not (folder / rows[dropped["id"]].stored_name).exists()
    # The first was part of the version the head sent back: it stays for the record.
    assert rows[kept["id"]].purged_at is None
    assert (folder / rows[kept["id"]].stored_name).exists()
