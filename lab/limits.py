"""The lab's limits: every value a visitor can enter (forms, import cells, uploads), derived
from the engine's one table (:mod:`nuonuo_core.limits`).

Each form range is the engine's range or a narrower one made with ``Limit.narrow``, which
refuses a range outside the engine's and remembers the engine's, so help texts and messages
say both ("Allowed: [1, 1000] (the engine allows [1, 10000]; …)"). One parser for every
numeric field of every form (:func:`number` / ``Limit.parse``): the text is parsed first, then
the parsed number is bounded and passed on. Uploaded workspaces must lie inside the same
ranges (:func:`check_workspace_config`), checked before anything is allocated. Pure (no
Streamlit); used by ``io``, ``workspaces``, ``sweep`` and the pages.
"""
from __future__ import annotations

import json

from nuonuo_core import safejson
from nuonuo_core.limits import LIMITS, Limit

ENGINE = LIMITS
EMBED_DIM = 384                      # the lab's encoder (all-MiniLM-L6-v2)
CODE_DIMS = (256, 1024, 4096, 16384, 32768)
DENSE_MAX_DIM = 2048                 # "auto" keeps W dense up to here (16 MiB); sparse above

# Every form range of the lab, from the engine's table; narrower ones say why.
FORMS: dict[str, Limit] = {
    "beta": ENGINE["beta"].narrow(hi=1000.0, why="beyond 1000 the softmax over unit cues is "
                                                 "already one-hot"),
    "top_k": ENGINE["top_k"].narrow(hi=1000, why="one visitor's recall stays a few ms on a "
                                                 "shared server"),
    "max_steps": ENGINE["max_steps"].narrow(hi=100, why="settling converges in a few steps; "
                                                        "100 bounds a shared server's work"),
    "eps": ENGINE["eps"],
    "lr": ENGINE["lr"],
    "k": ENGINE["wta_k"].narrow(name="k"),     # MemoryConfig.k: the k-WTA winners
    "seed": ENGINE["seed"],
    "importance": ENGINE["importance"],
    "min_overlap": ENGINE["min_overlap"],
    "code_dim": ENGINE["code_dim"].narrow(lo=CODE_DIMS[0], hi=CODE_DIMS[-1],
                                          why=f"the lab offers D in {list(CODE_DIMS)}"),
    "embed_dim": ENGINE["embed_dim"].narrow(lo=EMBED_DIM, hi=EMBED_DIM,
                                            why="the lab's encoder gives 384-d embeddings"),
    # a night (Consolidation page): the page's sliders, enforced again on the server
    "epochs": ENGINE["epochs"].narrow(hi=10, why="a night of the lab runs in seconds"),
    "replay_noise": ENGINE["replay_noise"].narrow(hi=0.2, why="beyond 0.2 a replayed cue "
                                                              "is mostly noise"),
    "homeostasis": ENGINE["homeostasis"].narrow(lo=0.05, lo_open=False,
                                                why="below 0.05 one epoch wipes W"),
    "prune_threshold": ENGINE["prune_threshold"],
    "keep_fraction": ENGINE["keep_fraction"],
    "probe_noise": ENGINE["noise_std"].narrow(name="probe_noise"),
}
METHODS = ("hopfield", "hebbian", "cosine")
# when to answer (Recall page) and when a chain hop counts (Chains page): the engine's ranges;
# a threshold of -1 answers every query (NO_ABSTENTION)
FORMS.update({f"min_score_{m}": ENGINE[f"min_score_{m}"] for m in METHODS})
FORMS["min_score_words"] = ENGINE["min_score_words"]      # word match (hopfield, cosine)
FORMS["chain_min_support"] = ENGINE["chain_min_support"]
THRESHOLDS = {m: FORMS[f"min_score_{m}"] for m in METHODS}
NIGHT = {name: FORMS[name] for name in ("epochs", "replay_noise", "homeostasis",
                                        "prune_threshold", "keep_fraction", "probe_noise")}
RECALL = {name: FORMS[name] for name in ("beta", "top_k", "max_steps", "eps")}  # live
REBUILD = {name: FORMS[name] for name in ("lr", "k", "seed")}  # change codes or W: rebuild


# The pages' own controls (sliders and choices), narrowed from the engine's table where the
# value reaches the engine; they also bound the page settings saved for a reload
# (lab/workspace/uistate.py). Lab-only values (no engine counterpart) say so.
PAGE: dict[str, Limit] = {
    "noise": ENGINE["noise_std"].narrow(hi=0.25, name="noise", why="at 0.25 a cue keeps "
                                        "cosine ~0.2 to the clean one: nothing is recalled"),
    "sweep_max": ENGINE["noise_std"].narrow(lo=0.05, hi=0.5, name="sweep_max",
                                            why="the noise sweep's largest σ"),
    "sweep_seeds": Limit("sweep_seeds", 1, 10, True, why="lab only: noise draws per level "
                         "(each a full pass over the probed memories)"),
    "hops": ENGINE["hops"].narrow(hi=10, name="hops", why="the chains page walks 10 hops "
                                  "at most"),
    "per_day": Limit("per_day", 1, 50, True, why="lab only: memories learned per day"),
    "beta_noise": ENGINE["noise_std"].narrow(hi=0.2, name="beta_noise",
                                             why="the β view's probe noise"),
    "pc_flip": Limit("flip_fraction", 0.0, 0.5, why="lab only: beyond half, the inverted "
                     "pattern is nearer"),
    "pc_seed": Limit("pattern seed", 0, 1_000_000, True, why="lab only: seeds the pattern "
                     "page's corruption and random sets"),
}
OWN_PATTERNS = 12                    # drawings and images of the pattern page, per visitor
UI_STATE_BYTES = 8 * 1024            # the saved page settings of one owner (a reload's state)
UI_QUERY_CHARS = 300                 # a typed query longer than this is not saved
IMPORTANCE = (FORMS["importance"].lo, FORMS["importance"].hi)   # (lo, hi]
K_RANGE = (FORMS["k"].lo, FORMS["k"].hi)
SEED_RANGE = (FORMS["seed"].lo, FORMS["seed"].hi)
PER_DAY = (PAGE["per_day"].lo, PAGE["per_day"].hi)   # lab-only: memories per day (nights)
# Workspace files: the largest one the lab writes is the largest it accepts as an upload
# (server.maxUploadSize in .streamlit/config.toml), so every download opens again
UPLOAD_LIMIT = 20 * 2**20
WORKSPACE_BYTES = UPLOAD_LIMIT
MAX_JSON_DEPTH = 16
MAX_JSON_ITEMS = 1_000_000           # values in one uploaded JSON (~100 MB of Python objects)


def number(name: str, value, lo, hi, *, integer: bool = False, lo_open: bool = False):
    """``value`` (text or number) parsed, then bounded to [lo, hi] ((lo, hi] if ``lo_open``);
    the parsed number is returned. Text, bool, NaN, inf and fractional values for an integer
    setting are refused; the message names the setting, the allowed range and the value."""
    return Limit(name, lo, hi, integer, lo_open).parse(value)


def parse(value, name: str, integer: bool):
    """A number from a form with no range of its own (the caller bounds it next)."""
    try:
        return Limit(name, -2**63, 2**63, integer).parse(value)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{name} must be {kind}, got {_show(value)}") from None


def span(lo, hi, lo_open: bool = False) -> str:
    """The range as the messages write it: [1, 50], (0, 100]."""
    return Limit("", lo, hi, lo_open=lo_open).span()


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def check_params(table: dict[str, Limit], values: dict) -> dict:
    """Parse and bound ``values`` with a table like :data:`RECALL`; returns the numbers."""
    return {name: table[name].parse(value) for name, value in values.items()}


def check_workspace_config(cfg) -> None:
    """Refuse a workspace (upload, saved file, autosave) whose config lies outside what the
    lab's own forms can make: called by ``HybridMemory.from_bytes`` before the projection or
    W is built, so a small file cannot make the server allocate gigabytes."""
    for name, lim in FORMS.items():
        if name in ("importance",) or name in NIGHT:
            continue
        value = getattr(cfg, name)
        if not lim.contains(value):
            raise ValueError(f"its {name} = {value!r} is outside what the lab allows: "
                             f"{lim.help()[len('Allowed: '):-1]}")
    if cfg.code_dim not in CODE_DIMS:
        raise ValueError(f"its code_dim = {cfg.code_dim} is not one the lab offers "
                         f"({list(CODE_DIMS)})")
    if cfg.w_format == "dense" and cfg.code_dim > DENSE_MAX_DIM:
        raise ValueError(f"its W is dense at code_dim = {cfg.code_dim}; the lab keeps W dense "
                         f"only up to code_dim {DENSE_MAX_DIM} (16 MiB)")


def load_json(text: str, max_depth: int = MAX_JSON_DEPTH, max_items: int = MAX_JSON_ITEMS,
              max_len: int | None = None, what: str = "JSON"):
    """``json.loads`` whose values, nesting and container lengths are counted and bounded
    while the text is read (:mod:`nuonuo_core.safejson`), not after."""
    try:
        return safejson.loads(text, max_items, max_depth, max_len, what)
    except safejson.TooLarge:
        raise
    except ValueError as exc:
        raise ValueError(f"malformed JSON: {str(exc).split(': ', 1)[-1]}") from None


# --- workspace size: the file must stay small enough to open again -------------------------
def file_bytes(mem) -> int:
    """The size of ``mem.to_bytes()`` within a few KB, without building it: the tensors'
    bytes and the state's JSON (texts escaped twice, as the header stores it)."""
    store = mem.store
    c = mem.config
    stats = store.w.stats()
    cells = 0 if store.factored else stats["w_nnz"]      # a factored W saves no cells
    tensors = store.n * (8 + 4 * c.k + 4 + 8 + 1) \
        + store.n_rows * (8 + 4 * c.k + 2 * c.embed_dim) \
        + 12 * cells + 12 * store.contrib.size
    texts = len(json.dumps(json.dumps(store.texts)))
    return tensors + texts + 4096


def growth(cfg, rows: int = 0, memories: int = 0, text_bytes: int = 0) -> int:
    """An upper bound of the bytes ``memories`` new memories with ``rows`` cue rows in all
    (and ``text_bytes`` characters of text) add to a workspace file of config ``cfg``: per
    cue row its embedding, code, owner, contribution (k keys) and at most k² new W cells."""
    k = cfg.k
    per_row = 8 + 4 * k + 4 * cfg.embed_dim + 12 * k + 12 * k * k
    return rows * per_row + memories * (21 + 4 * k + 64) + 12 * text_bytes


def rows_growth(cfg, rows) -> int:
    """:func:`growth` of memory rows (objects with ``cue``, ``target``, ``paraphrases``)."""
    return growth(cfg, rows=sum(1 + len(r.paraphrases) for r in rows), memories=len(rows),
                  text_bytes=sum(len(r.cue) + len(r.target or "") + sum(map(len, r.paraphrases))
                                 for r in rows))


def night_growth(mem, epochs: int, replay_noise: float, replays: int = 1) -> int:
    """An upper bound of the bytes one night adds to the workspace file: a noisy replay may
    touch k² new W cells and k new contribution keys per replayed row, replay and epoch; a
    clean replay only brings back cells of the stored rows that pruning cut."""
    store, wta_k = mem.store, mem.config.k
    buffered = int(store.in_replay.to(store.row_mem.device)[store.row_mem].sum()) \
        if store.n_rows else 0
    if replay_noise > 0:
        return buffered * replays * epochs * 12 * (wta_k * wta_k + wta_k)
    return max(0, 12 * (store.n_rows * wta_k * wta_k - store.w.stats()["w_nnz"]))


def check_room(mem, extra: int, what: str) -> None:
    """Refuse an operation that could grow the workspace's file past WORKSPACE_BYTES (so the
    lab could not open its own download), naming the sizes."""
    now = file_bytes(mem)
    if now + extra > WORKSPACE_BYTES:
        raise ValueError(f"{what} could make this workspace's file about "
                         f"{(now + extra) / 2**20:.1f} MB (it is {now / 2**20:.1f} MB now); a "
                         f"workspace file holds at most {WORKSPACE_BYTES // 2**20} MB, the "
                         f"largest the lab can open again. Remove memories, or save this "
                         f"workspace and start a new one")


def check_file(mem) -> None:
    """Refuse to write a workspace file larger than the lab can open again."""
    check_room(mem, 0, "saving")


# --- the Conversation memory page (page 11): a visitor's own chat -----------------------------
# The engine takes chats up to 10 MB and 10,000 turns (the table's chat_bytes, chat_turns); the
# page takes less, because a visitor's chat is embedded for that visitor alone on a shared
# server and held in their session. Memory and time grow with MiniLM wordpieces (each keeps a
# 384-d token vector, ~2.3 KB with its index; MiniLM reads at most 254 of a turn), so the page
# bounds them: 60,000 wordpieces is ~140 MB and ~25 s of two free cores (LoCoMo's longest
# conversation, 663 turns, has 22,880). The engine has no wordpiece bound of its own (its
# turns bound them: at most 254 a turn), so that one is the lab's alone.
CONVERSATION: dict[str, Limit] = {
    "chat_bytes": ENGINE["chat_bytes"].narrow(hi=2**20, why="a visitor's chat is embedded for "
                                                            "that visitor alone"),
    "chat_turns": ENGINE["chat_turns"].narrow(hi=2_000, why="a visitor's chat is held in "
                                                            "their session"),
    "hits": ENGINE["hits"].narrow(hi=20, why="the page shows each turn with its channels"),
    "question_chars": ENGINE["question_chars"],
    "wordpieces": Limit("wordpieces", 0, 60_000, True,
                        why="lab only: ~140 MB of token vectors and ~25 s of two cores"),
}
CHAT_UPLOAD_BYTES = CONVERSATION["chat_bytes"].hi     # an uploaded chat file (JSON or CSV)
CHAT_TURNS = CONVERSATION["chat_turns"].hi            # turns of an uploaded chat
CHAT_WORDPIECES = CONVERSATION["wordpieces"].hi       # MiniLM wordpieces over all its turns
CHAT_HITS = (CONVERSATION["hits"].lo, CONVERSATION["hits"].hi)   # turns shown for one question
