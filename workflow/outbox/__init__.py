"""The outbox: emails written in the same transaction as what caused them, handed to the
worker after commit, claimed, sent once, retried with backoff.

It knows nothing of memos: the memos package composes its emails, identity its links.
"""
