"""Conversation memory in the lab: the LoCoMo benchmark (page 8) and a conversation to ask
questions of (page 11). See ``lab/__init__.py`` for what each module holds."""
