"""The engine as the experiments use it: a CPU memory that answers every query.

The experiments measure how faithfully a memory stores and recalls, so recall must not
abstain: every engine memory built here sets each answer threshold the engine has
(``MemoryConfig.min_score_*``) to :data:`~nuonuo_core.NO_ABSTENTION` (every recall call passes
it too), and the records of
every experiment that recalls through the engine carry ``min_score`` = -1.0 ("no abstention:
every query is answered"). A threshold study belongs to its own experiment.
"""
from __future__ import annotations

from dataclasses import fields

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig

ANSWERS = {"min_score": NO_ABSTENTION}  # the column the records carry


def memory_config(**settings) -> MemoryConfig:
    """A CPU MemoryConfig with ``settings`` and no abstention."""
    thresholds = {f.name: NO_ABSTENTION for f in fields(MemoryConfig)
                  if f.name.startswith("min_score")}
    return MemoryConfig(**{"device": "cpu", **thresholds, **settings})


def memory(**settings) -> HybridMemory:
    """A fresh :class:`HybridMemory` over :func:`memory_config` (``settings``)."""
    return HybridMemory(memory_config(**settings))
