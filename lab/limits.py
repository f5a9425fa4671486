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
    "k": ENGINE["k"],
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
NIGHT = {name: FORMS[name] for name in ("epochs", "replay_noise", "homeostasis",
                                        "prune_threshold", "keep_fraction", "probe_noise")}
RECALL = {name: FORMS[name] for name in ("beta", "top_k", "max_steps", "eps")}  # live
REBUILD = {name: FORMS[name] for name in ("lr", "k", "seed")}  # change codes or W: rebuild

IMPORTANCE = (FORMS["importance"].lo, FORMS["importance"].hi)   # (lo, hi]
K_RANGE = (FORMS["k"].lo, FORMS["k"].hi)
SEED_RANGE = (FORMS["seed"].lo, FORMS["seed"].hi)
PER_DAY = (1, 50)                    # lab-only: memories per day in the night player
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
