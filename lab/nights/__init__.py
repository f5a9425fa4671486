"""Consolidation nights: the day/night player and the phase map (see ``lab/__init__.py``)."""
