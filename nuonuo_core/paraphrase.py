"""An offline, rule-based paraphraser for short personal-memory statements.

How it works (no model, no network; deterministic):

1. **Relation templates.** The statement is matched against a few shallow patterns over its
   words - ``X's THING is named/called V``, ``X's THING is V``, ``X is REST``, ``X VERBs REST``
   (present or a few past forms). The matched parts are slotted into question templates
   ("What is X's THING called?", "Where does X live?", ...). When the answer (``target``) is
   given it is cut out of the slot, and the preposition left before it picks the wh-word
   (in/to/from -> Where, on -> When, otherwise What).
2. **Lexical substitution.** A small synonym table (favorite -> preferred, named -> called,
   lives in -> resides in, works as -> is employed as, ...) rewrites the statement itself.
3. **Generic wrappers.** "Remember that ..." and "X: ..." frames. (Frames that keep only the
   subject, like "What about Alice?", were dropped: they are the same for every fact about
   Alice and pulled recall towards the wrong fact.)

Variants come out in that order (questions first, since queries are questions), de-duplicated
and never equal to the statement; ``paraphrase(cue, target, n)`` returns the first ``n``.
The rules are written for the English "subject + relation + value" facts in
``nuonuo_core/data/paraphrase_facts.json`` and similar notes; they do not understand language, and
on other sentence shapes they fall back to steps 2-3 only.
"""
from __future__ import annotations

import re

_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("favorite", "preferred"), ("favourite", "preferred"), ("is named", "is called"),
    ("is called", "is named"), ("lives in", "resides in"), ("works as", "is employed as"),
    ("works at", "is employed at"), ("birthday", "date of birth"),
    ("is allergic to", "has an allergy to"), ("is afraid of", "fears"), ("owns", "runs"),
    ("drives", "has"), ("plays", "can play"), ("is studying", "studies"),
    ("is learning", "studies"), ("husband", "spouse"), ("wife", "spouse"),
)
_PAST = {"grew": "grow", "moved": "move", "broke": "break", "studied": "study",
         "went": "go", "bought": "buy", "met": "meet", "lost": "lose"}
_WH = {"in": "Where", "to": "Where", "from": "Where", "at": "Where", "on": "When"}
_WH_BE = {"in": "Where", "from": "Where", "on": "When"}  # after "is": "allergic to" -> What
_DETS = {"a", "an", "the", "his", "her", "their", "my", "our"}
_POSS = re.compile(r"^(?P<x>[A-Z][\w-]*)'s (?P<thing>.+?) (?:is|are) (?P<rest>.+)$")
_IS = re.compile(r"^(?P<x>[A-Z][\w-]*) (?P<be>is|was|are) (?P<rest>.+)$")


def _strip(text: str) -> str:
    return text.strip().rstrip(".!?").strip()


def _cut(rest: str, target: str | None) -> tuple[str, str | None]:
    """Remove the answer from ``rest`` -> (stem before it, preposition right before it)."""
    if target:
        i = rest.lower().find(target.lower())
        if i >= 0:
            words = rest[:i].split()
            while words and words[-1].lower() in _DETS:  # "work as a" -> "work as"
                words.pop()
            last = words[-1].lower() if words else None
            return " ".join(words), last
    return rest, None


def _base(verb: str) -> tuple[str, str] | None:
    """Verb -> (auxiliary, base form): "lives" -> ("does", "live"), "grew" -> ("did", "grow")."""
    if verb in _PAST:
        return "did", _PAST[verb]
    if verb.endswith("ies"):
        return "does", verb[:-3] + "y"
    if verb.endswith(("ches", "shes", "sses", "xes")) or verb == "goes":
        return "does", verb[:-2]
    if verb.endswith("s") and not verb.endswith("ss"):
        return "does", verb[:-1]
    return None


def _templates(cue: str, target: str | None) -> list[str]:
    m = _POSS.match(cue)
    if m:
        x, thing, rest = m["x"], m["thing"], m["rest"]
        if re.match(r"(?:named|called) ", rest):
            return [f"What is {x}'s {thing} called?", f"What is the name of {x}'s {thing}?",
                    f"What did {x} name the {thing}?", f"{x} has a {thing} called "
                    f"{rest.split(' ', 1)[1]}", f"the {thing} of {x}"]
        stem, prep = _cut(rest, target)
        wh = _WH_BE.get(prep or "", "What")
        if wh == "When" and not re.search(r"\d", target or rest):
            wh = "Where"
        return [f"{wh} is {x}'s {thing}?", f"Tell me {x}'s {thing}",
                f"Do you know what {x}'s {thing} is?", f"The {thing} of {x} is {rest}",
                f"{x}'s {thing}"]
    m = _IS.match(cue)
    if m:
        x, be, rest = m["x"], m["be"], m["rest"]
        stem, prep = _cut(rest, target)
        wh = _WH_BE.get(prep or "", "What")
        stem_q = " ".join(w for w in stem.split() if w.lower() not in _WH_BE) \
            if wh != "What" else stem
        first = f"{wh} {be} {x} {stem_q}".strip() + "?" if stem and stem != rest \
            else f"What {be} {x}?"
        return [first, f"{be.capitalize()} {x} {rest}?", f"Tell me whether {x} {be} {rest}"]
    verb = _verb_split(cue)
    if verb:
        x, v, rest = verb
        based = _base(v)
        assert based is not None     # _verb_split picks only verbs _base knows
        aux, base = based
        stem, prep = _cut(rest, target)
        wh = _WH.get(prep or "", "What")
        if stem and stem != rest:
            stem_q = " ".join(w for w in stem.split() if w.lower() not in _WH) if wh != "What" \
                else stem
            first = f"{wh} {aux} {x} {base} {stem_q}".strip() + "?"
        else:
            first = f"What {aux} {x} {base}?"
        return [first, f"{aux.capitalize()} {x} {base} {rest}?", f"What {aux} {x} {base}?",
                f"Tell me what {x} {v}"]
    return []


def _verb_split(cue: str) -> tuple[str, str, str] | None:
    """"Alice lives in Lisbon" -> ("Alice", "lives", "in Lisbon"); a possessive subject of up
    to three words is allowed ("Carol's phone number ends in 4471")."""
    words = cue.split()
    if len(words) < 3 or not words[0][:1].isupper():
        return None
    spans = range(2, min(5, len(words) - 1)) if words[0].endswith("'s") else (1,)
    for i in spans:
        if words[i].isalpha() and words[i].islower() and _base(words[i]):
            return " ".join(words[:i]), words[i], " ".join(words[i + 1:])
    return None


def _substitutions(cue: str) -> list[str]:
    out = []
    low = cue.lower()
    for a, b in _SYNONYMS:
        i = low.find(a)
        if i >= 0:
            out.append(cue[:i] + b + cue[i + len(a):])
    return out


def _wrappers(cue: str) -> list[str]:
    words = cue.split()
    out = [f"Remember that {cue[0].lower() + cue[1:]}"]
    if len(words) > 2:
        out.append(f"{words[0]}: {' '.join(words[1:])}")
    return out


def paraphrase(cue: str, target: str | None = None, n: int | None = None) -> list[str]:
    """Up to ``n`` (all when None) distinct variants of ``cue``, most question-like first."""
    if not isinstance(cue, str) or not cue.strip():
        raise ValueError(f"cue must be a non-empty string, got {cue!r}")
    if n is not None and (not isinstance(n, int) or n < 0):
        raise ValueError(f"n must be an int >= 0 or None, got {n!r}")
    cue = _strip(cue)
    seen, out = {cue.lower()}, []
    for v in _templates(cue, target) + _substitutions(cue) + _wrappers(cue):
        v = re.sub(r"\s+", " ", v).strip()
        if v and v.lower() not in seen:
            seen.add(v.lower())
            out.append(v)
    return out if n is None else out[:n]
