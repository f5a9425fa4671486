"""Pattern completion: stored sets, completion runs, their figures and widgets (see
``lab/__init__.py``)."""
