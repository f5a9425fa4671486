"""Conversation memory: turns in, ranked turns out (see memory.py)."""
