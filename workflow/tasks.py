"""Celery tasks. Each takes ids, never objects, and calls a service."""
