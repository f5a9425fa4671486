"""Warnings for memories the encoder cannot tell apart (emoji / symbol-only, near-duplicates)."""
import numpy as np

from lab.workspace import lookalikes, memory_rows
from nuonuo_core import HybridMemory, MemoryConfig
from nuonuo_core.encoders import HashingEncoder


class WordBlind(HashingEncoder):
    """Like MiniLM on emoji: every text without letters or digits embeds to one vector."""

    def __call__(self, texts):
        out = super().__call__(texts)
        for i, t in enumerate(texts):
            if not lookalikes.has_words(t):
                out[i] = 0.0
                out[i, 0] = 1.0
        return out


def memory():
    return HybridMemory(MemoryConfig(code_dim=1024, k=8, device="cpu"), encoder=WordBlind())


def test_has_words_in_any_script():
    assert all(lookalikes.has_words(t) for t in ("apple", "苹果", "7"))
    assert lookalikes.has_words("🍎 apple") and lookalikes.has_words("Ünïcode")
    for bare in ("🍎", "🍎🍌", "→ → !", "   ", "", "😀 🙃 …"):
        assert not lookalikes.has_words(bare), bare
    assert lookalikes.symbol_only(["🍎", "apple", "🍎", "", "→", "a→b"]) == ["🍎", "→"]


def test_emoji_chain_gets_both_warnings():
    mem = memory()
    ids = memory_rows.add_rows(mem, [memory_rows.make_row("🍎", "🍌"),
                                     memory_rows.make_row("🍌", "🍒"),
                                     memory_rows.make_row("apple", "fruit")])
    msgs = lookalikes.check(mem, ids)
    assert len(msgs) == 2
    assert msgs[0].startswith("3 text(s) have no letters or digits ('🍎', '🍌', '🍒')")
    assert "cannot tell" in msgs[0]
    assert "'🍌' ≈ '🍎'" in msgs[1] or "'🍎' ≈ '🍌'" in msgs[1]
    assert "cosine 1.0000" in msgs[1] and "apple" not in msgs[1]
    pairs = lookalikes.near_duplicates(mem, ids)
    assert len(pairs) == 1 and pairs[0][2] > 0.999


def test_word_memories_get_no_warning_and_same_text_is_not_a_pair():
    mem = memory()
    ids = memory_rows.add_rows(mem, [memory_rows.make_row("where is the station", "north"),
                            memory_rows.make_row("where is the station", "south"),   # same cue text
                            memory_rows.make_row("favourite tea", "jasmine")])
    assert lookalikes.check(mem, ids) == []
    later = memory_rows.add_rows(mem, [memory_rows.make_row("★", "a star")])  # one symbol cue
    msgs = lookalikes.check(mem, later)
    assert len(msgs) == 1 and msgs[0].startswith("1 text(s) have no letters or digits ('★')")


def test_near_duplicate_check_is_bounded():
    mem = memory()
    ids = memory_rows.add_rows(mem, [memory_rows.make_row(c, f"t{i}")
                                     for i, c in enumerate("☀☁☂☃☄")])
    pairs = lookalikes.near_duplicates(mem, ids, limit=2)      # only ☀ and ☁ are embedded again
    assert {a for a, _, _ in pairs} == {"☀", "☁"} and len(pairs) <= 2 * 3   # k=4 minus self
    assert all(a != b and c > lookalikes.SAME_COSINE for a, b, c in pairs)
    assert lookalikes.near_duplicates(mem, []) == []
    assert np.isclose(lookalikes.SAME_COSINE, 0.999)
