"""Reading the audit trail: the auditor's search and export, and one memo's trail with its
proof. The trail itself is written by ``workflow.trail``.
"""
