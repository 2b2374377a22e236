"""Memos: the route's state machine, actions and who may take them, input, versions, files, PDF."""
