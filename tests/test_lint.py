"""Warnings for memories the encoder cannot tell apart (emoji / symbol-only, near-duplicates)."""
import numpy as np

from lab import io, lint
from nuonuo_core import HybridMemory, MemoryConfig
from nuonuo_core.encoders import HashingEncoder


class WordBlind(HashingEncoder):
    """Like MiniLM on emoji: every text without letters or digits embeds to one vector."""

    def __call__(self, texts):
        out = super().__call__(texts)
        for i, t in enumerate(texts):
            if not lint.has_words(t):
                out[i] = 0.0
                out[i, 0] = 1.0
        return out


def memory():
    return HybridMemory(MemoryConfig(code_dim=1024, k=8, device="cpu"), encoder=WordBlind())


def test_has_words_in_any_script():
    assert lint.has_words("apple") and lint.has_words("苹果") and lint.has_words("7")
    assert lint.has_words("🍎 apple") and lint.has_words("Ünïcode")
    for bare in ("🍎", "🍎🍌", "→ → !", "   ", "", "😀 🙃 …"):
        assert not lint.has_words(bare), bare
    assert lint.symbol_only(["🍎", "apple", "🍎", "", "→", "a→b"]) == ["🍎", "→"]


def test_emoji_chain_gets_both_warnings():
    mem = memory()
    ids = io.add_rows(mem, [io.make_row("🍎", "🍌"), io.make_row("🍌", "🍒"),
                            io.make_row("apple", "fruit")])
    msgs = lint.check(mem, ids)
    assert len(msgs) == 2
    assert msgs[0].startswith("3 text(s) have no letters or digits ('🍎', '🍌', '🍒')")
    assert "cannot tell" in msgs[0]
    assert "'🍌' ≈ '🍎'" in msgs[1] or "'🍎' ≈ '🍌'" in msgs[1]
    assert "cosine 1.0000" in msgs[1] and "apple" not in msgs[1]
    pairs = lint.near_duplicates(mem, ids)
    assert len(pairs) == 1 and pairs[0][2] > 0.999


def test_word_memories_get_no_warning_and_same_text_is_not_a_pair():
    mem = memory()
    ids = io.add_rows(mem, [io.make_row("where is the station", "north"),
                            io.make_row("where is the station", "south"),   # same cue text
                            io.make_row("favourite tea", "jasmine")])
    assert lint.check(mem, ids) == []
    later = io.add_rows(mem, [io.make_row("★", "a star")])     # one symbol cue, no twin
    msgs = lint.check(mem, later)
    assert len(msgs) == 1 and msgs[0].startswith("1 text(s) have no letters or digits ('★')")


def test_near_duplicate_check_is_bounded():
    mem = memory()
    ids = io.add_rows(mem, [io.make_row(c, f"t{i}") for i, c in enumerate("☀☁☂☃☄")])
    pairs = lint.near_duplicates(mem, ids, limit=2)      # only ☀ and ☁ are embedded again
    assert {a for a, _, _ in pairs} == {"☀", "☁"} and len(pairs) <= 2 * 3   # k=4 minus self
    assert all(a != b and c > lint.SAME_COSINE for a, b, c in pairs)
    assert lint.near_duplicates(mem, []) == []
    assert np.isclose(lint.SAME_COSINE, 0.999)
