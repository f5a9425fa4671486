"""Parameter sweeps from the lab: grids from form text, background jobs, their figures and
panels (see ``lab/__init__.py``)."""
