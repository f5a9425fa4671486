"""Once-per-process server set-up: thread limits and the janitor (see ``lab/__init__.py``)."""
