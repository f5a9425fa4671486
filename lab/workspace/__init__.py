"""A visitor's workspace: memory rows in and out, demo sets, owner folders, session state,
the sidebar and the page frame (see ``lab/__init__.py``)."""
