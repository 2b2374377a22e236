"""Quick-pick endorsement phrases (เกษียน) a signer can tap instead of typing."""

from __future__ import annotations

FORWARD = ("เพื่อโปรดพิจารณา", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ", "เห็นชอบ", "ทราบ")
FINAL = ("ทราบ", "อนุมัติ", "ทราบ อนุมัติตามเสนอ", "ไม่อนุมัติ เนื่องจาก…")
SEND_BACK = ("ส่งกลับแก้ไข เนื่องจาก…", "โปรดแก้ไขตามที่เกษียนไว้")


def endorsement_phrases(step_no: int, step_count: int) -> tuple[str, ...]:
    """Phrases suited to the step: forwarding wording below the top, deciding wording at it."""
    return FINAL if step_no >= step_count else FORWARD

# For approving many memos with one endorsement: approving wording only (a refusal is
# given memo by memo, on its own page).
BULK = ("เพื่อโปรดพิจารณา", "เห็นชอบ", "ทราบ", "อนุมัติ", "ทราบ อนุมัติตามเสนอ")
