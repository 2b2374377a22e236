"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

import gc

from workflow import create_app

app = create_app()

# What is built by now (modules, the app, its extensions) lives as long as the process. Out
# of the cyclic collector's reach, it is no longer scanned by each full collection, which
# otherwise stopped a worker and every request in it for 90-110 ms about once per thousand
# requests (the inbox's waiting tab at 100,000 memos, gc.callbacks); after the freeze one
# takes about 3 ms. Frozen objects are still freed when nothing refers to them, but never
# as part of a reference cycle: harmless for what start-up builds once. Here, not in
# create_app: the tests build an app for each test and must keep collecting them.
gc.freeze()
