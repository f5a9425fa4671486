"""nuonuo_core: a Hopfield + Hebbian hybrid memory engine (no UI code here).

Vocabulary: a *cue* recalls a *target*; both are embeddings (d = 384 for MiniLM); a *code* is
the k-sparse binary pattern a random projection + k-WTA gives an embedding; *stored patterns*
X are the cue embeddings Hopfield settles over with inverse temperature β.
"""
from .config import DEFAULT_MIN_SCORE, NO_ABSTENTION, MemoryConfig
from .consolidation import NO_SLEEP, Night
from .encoders import HashingEncoder, MiniLMEncoder, get_minilm_encoder
from .functional import (hebbian_update, hopfield_energy, hopfield_settle, kwta, kwta_indices,
                         noise_for_cosine, normalize, perturb)
from .memory import HybridMemory
from .recall import ChainResult, Hop, HopfieldTrace, RecallResult

__all__ = ["MemoryConfig", "HybridMemory", "HopfieldTrace", "RecallResult", "Hop",
           "ChainResult", "NO_ABSTENTION", "DEFAULT_MIN_SCORE", "kwta", "kwta_indices", "perturb",
           "normalize", "noise_for_cosine", "hopfield_settle", "hopfield_energy",
           "hebbian_update", "HashingEncoder", "MiniLMEncoder", "get_minilm_encoder", "Night",
           "NO_SLEEP"]
__version__ = "0.1.0"
