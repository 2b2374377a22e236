"""Real servers and helpers the tests start: SMTP sink, Redis, Celery, databases, clients."""
