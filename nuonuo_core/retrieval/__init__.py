"""Conversation memory for LLMs: a conversation's turns in, the turns that answer a question out.

>>> from nuonuo_core.retrieval import ConversationMemory
>>> mem = ConversationMemory()          # default configuration (hybrid+lists) and MiniLM
>>> mem.add_turns([{"id": "D1:3", "text": "...", "speaker": "Caroline",
...                 "session": "session_1", "time": "1:56 pm on 8 May, 2023"}])
>>> hits = mem.search("When did Caroline go to the support group?", k=10)
>>> hits[0].id, hits[0].score, mem.search(q, k=5, explain=True)[0].channels
>>> mem.save("chat.nuonuo"); mem = ConversationMemory.load("chat.nuonuo")

Modules: ``memory`` (the class), ``config`` (:class:`RetrievalConfig`, the named table rows
:data:`PRESETS`), ``turns`` (turn validation, dates), ``channels`` (BM25, token MaxSim,
speaker, prior, time, links), ``engine`` (Hebbian links, the W hop, engine ranking and
settling), ``files`` (save/load), ``evaluate`` (recall@k over labelled questions), ``chats``
(the example conversation and users' JSON/CSV chats), ``limits`` (every bound, one table).
"""
from .chats import Chat, load_example, parse_chat, read_chat
from .config import CHANNEL_LABELS, CHANNELS, METHODS, PRESETS, RetrievalConfig, preset
from .embedder import Embedder, as_embedder
from .evaluate import LabelledQuestion, evidence_ranks, recall_records
from .limits import LIMITS
from .memory import ConversationMemory, Hit, LinkHit, Scores, SettleTrace
from .turns import Turn, parse_time

__all__ = ["ConversationMemory", "Hit", "LinkHit", "Scores", "SettleTrace", "RetrievalConfig",
           "PRESETS", "METHODS", "CHANNELS", "CHANNEL_LABELS", "preset", "Embedder",
           "as_embedder", "LabelledQuestion", "evidence_ranks", "recall_records", "Chat",
           "load_example", "parse_chat", "read_chat", "LIMITS", "Turn", "parse_time"]
