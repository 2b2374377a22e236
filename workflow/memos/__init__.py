"""Memos: drafting, moving them along their route, reading them, and what belongs to them
(versions, attachments, the register, the printed document, the emails and reminders).
"""
