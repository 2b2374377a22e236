"""Versions: each changed resubmission is kept, decisions name the version, signers see the diff."""

from __future__ import annotations

from sqlmodel import select

from workflow.extensions import db
from workflow.memos.versions import content_hash
from workflow.models import Decision, MemoVersion
from workflow.textdiff import html_text, word_diff


def test_word_diff_segments_thai_words():
    """Thai without spaces still diffs word by word."""
    runs = word_diff("สำนักงานปลัด จึงรายงานความก้าวหน้า", "สำนักงานปลัด จึงขอรายงานผลความก้าวหน้า")
    assert ("insert", "ขอ") in runs and ("insert", "ผล") in runs
    assert all(op != "delete" for op, _ in runs)


def test_html_text_keeps_paragraphs_and_cells():
    """The body's text keeps one line per paragraph and separates table cells."""
    text = html_text("<h3>เรื่องเดิม</h3><p>ตามที่ &amp; นั้น</p>"
                     "<table><tr><td>ก</td><td>ข</td></tr></table>")
    assert text.splitlines() == ["เรื่องเดิม", "ตามที่ & นั้น", "| ก | ข"]


def test_edit_after_send_back_makes_version_2_and_the_signer_sees_the_change(
        app, demo, api, client, auth):
    """Sent back, edited and resubmitted: revision 2; the head sees exactly the edit."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
    api.act(memo_id, "deputy", "send_back", "เพิ่มคำว่า ผล ในชื่อเรื่อง")
    memo = api.call("GET", f"/memos/{memo_id}", "clerk").json
    new_subject = memo["subject"].replace("รายงานความก้าวหน้า", "รายงานผลความก้าวหน้า")
    api.call("PATCH", f"/memos/{memo_id}", "clerk", json={"subject": new_subject})
    resubmitted = api.act(memo_id, "clerk", "resubmit").json
    assert resubmitted["revision"] == 2

    auth.login("head")
    page = client.get(f"/memos/{memo_id}").text
    assert 'data-testid="version-diff"' in page
    assert "<ins>ผล</ins>" in page and "<del>" not in page
    auth.login("permsec")  # never decided on revision 1: nothing to compare
    assert 'data-testid="version-diff"' not in client.get(f"/memos/{memo_id}").text

    api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
    with app.app_context():
        versions = db.session.exec(
            select(MemoVersion).where(MemoVersion.memo_id == memo_id)
            .order_by(MemoVersion.revision)).all()
        decisions = db.session.exec(
            select(Decision).where(Decision.memo_id == memo_id).order_by(Decision.id)).all()
    assert [v.revision for v in versions] == [1, 2]
    assert versions[0].subject != versions[1].subject
    assert versions[1].content_hash == content_hash(versions[1])
    by_revision = {d.revision: d.content_hash for d in decisions}
    assert by_revision == {1: versions[0].content_hash, 2: versions[1].content_hash}


def test_resubmitting_unchanged_content_keeps_the_revision(app, demo, api):
    """A resubmission without edits is still revision 1."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    api.act(memo_id, "head", "send_back", "ตรวจสอบอีกครั้ง")
    assert api.act(memo_id, "clerk", "resubmit").json["revision"] == 1


def test_a_huge_body_diffs_in_bounded_time():
    """Lines first, then words only where a line changed: a 477,000-character body once took
    94 s to compare word by word on a signer's memo page."""
    import time

    old = "ผลคะแนนการประเมินคุณธรรมและความโปร่งใสในการดำเนินงาน " * 9000
    new = old.replace("คุณธรรม", "ความดี", 500)
    started = time.monotonic()
    runs = word_diff(old + "\nย่อหน้าเดิม", new + "\nย่อหน้าใหม่")
    assert time.monotonic() - started < 5
    assert "".join(text for op, text in runs if op != "insert") == old + "\nย่อหน้าเดิม"
    assert "".join(text for op, text in runs if op != "delete") == new + "\nย่อหน้าใหม่"
