"""The audit trail: an append-only, hash-chained record of every action, and its check.

The lowest domain package: everything above writes to it, it imports none of them.
"""
