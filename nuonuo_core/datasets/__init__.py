"""Conversation-memory datasets: LoCoMo and LongMemEval loaders."""
from nuonuo_core.datasets.locomo import (CATEGORIES, Conversation, Question, Turn, load_locomo,
                                         normalize_evidence)
from nuonuo_core.datasets.longmemeval import (CorpusTurn, LMEQuestion, LMESession, LMETurn,
                                              load_longmemeval)

__all__ = ["CATEGORIES", "Conversation", "Question", "Turn", "load_locomo", "normalize_evidence",
           "CorpusTurn", "LMEQuestion", "LMESession", "LMETurn", "load_longmemeval"]
