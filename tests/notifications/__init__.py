"""Notifications: emails through the outbox, reminders and digests, acting officers' mail."""
