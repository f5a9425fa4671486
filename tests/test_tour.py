"""Every guided-tour sentence is computed from its chart's data: each number it states is
checked against the frame, and a frame that contradicts a claim changes the sentence. (The
real tour is run by tests/test_app_pages.py, which checks the page shows these sentences.)"""
import re

import pandas as pd
import pytest

from lab import tour

PARAMS = {"homeostasis": 0.7, "prune_threshold": 0.1, "epochs": 3}


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)%", text)]


def noise_df(hop, heb, cos):
    rows = []
    for s, c in ((0.0, 1.0), (0.2, 0.24)):
        for m, r in (("hopfield", hop), ("hebbian", heb), ("cosine", cos)):
            rows.append({"noise_std": s, "cosine": c, "method": m,
                         "recall_at_1": 1.0 if s == 0 else r})
    return pd.DataFrame(rows)


def forget_df(with_replay, without):
    return pd.DataFrame([{"age": a, "run": run, "recall": r}
                         for run, curve in (("with replay", with_replay),
                                            ("without replay", without))
                         for a, r in enumerate(curve)])


def check_forgetting(text: str, df: pd.DataFrame) -> None:
    """The sentence's claims, recomputed from df independently of tour.py."""
    for run in ("with replay", "without replay"):
        d = df[df.run == run].sort_values("age")
        first, last = 100 * d.recall.iloc[0], 100 * d.recall.iloc[-1]
        clause = text.split(f"{run} recall ")[1].split(";")[0].split(". ")[0]
        if last < first - 2:
            assert clause.startswith("falls") and numbers(clause)[:2] == [round(first),
                                                                          round(last)]
            assert "stays" not in clause
        else:
            assert clause.startswith("stays") and numbers(clause)[0] == round(last)
    wr, nr = (df[df.run == r].sort_values("age").recall.iloc[-1]
              for r in ("with replay", "without replay"))
    if wr > nr + 0.02:
        assert "replay keeps more old memories than no replay" in text
    elif nr > wr + 0.02:
        assert "the twin without replay keeps more old memories" in text
    else:
        assert "replay makes no difference here" in text
    assert "h = 0.7" in text and "θ = 0.1" in text and "3 epochs" in text


@pytest.mark.parametrize("curves", [
    ([1.0, 0.9, 0.6, 0.38], [1.0, 0.5, 0.0, 0.0]),   # replay falls too: no "keeps alive"
    ([1.0, 1.0, 1.0, 1.0], [1.0, 0.75, 0.0, 0.0]),
    ([1.0, 0.5, 0.25, 0.0], [1.0, 1.0, 1.0, 1.0]),   # no replay wins: the sentence says so
    ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]),
])
def test_forgetting_sentence_follows_the_curves(curves):
    df = forget_df(*curves)
    text = tour.forgetting_sentence(df, PARAMS)
    check_forgetting(text, df)
    if curves[0][-1] < curves[0][0]:
        assert "alive" not in text and "keeps the memories it rehearses" not in text


def test_forgetting_sentence_says_the_seed_settings_would_prune_nothing():
    text = tour.forgetting_sentence(forget_df([1, 1, 1, 1], [1, 0.5, 0, 0]), PARAMS)
    # 3 nights of 3 epochs at the seed's h 0.95: 0.95^9 = 0.63 > θ 0.001
    assert "harsher than the seed's (h = 0.95, θ = 0.001)" in text
    assert "keep 0.63 after 3 nights of 3 epochs, still above θ" in text
    long = tour.seed_note({"homeostasis": 0.5, "prune_threshold": 0.1, "epochs": 10}, 20)
    assert "below θ, so it would be pruned too" in long          # 0.95^200 < 1e-3
    assert tour.seed_note({"homeostasis": 0.95, "prune_threshold": 1e-3, "epochs": 5}, 3) == ""


def test_forgetting_sentence_names_the_night_all_are_gone():
    text = tour.forgetting_sentence(forget_df([1, 1, 1, 1], [1, 0.5, 0, 0]), PARAMS)
    assert "none left from 2 nights on" in text
    assert "none left" not in tour.forgetting_sentence(forget_df([1, 1], [1, 0.5]), PARAMS)


@pytest.mark.parametrize("hop, heb, cos, says", [
    (1.0, 0.2, 1.0, "Settling keeps memories the Hebbian path has lost, and plain cosine"),
    (0.9, 0.2, 0.5, "Settling keeps memories the Hebbian path has lost."),
    (0.5, 0.5, 0.5, "level"),
    (0.2, 0.6, 0.5, "Hebbian path does better"),
])
def test_noise_sentence(hop, heb, cos, says):
    text = tour.noise_sentence(noise_df(hop, heb, cos))
    assert numbers(text) == [100 * hop, 100 * heb, 100 * cos]
    assert "σ = 0.200" in text and "cosine 0.24" in text and says in text


def test_chain_sentence():
    df = pd.DataFrame({"hop": [0, 1, 2, 3], "id": [0, 1, 2, 3],
                       "label": ["red key", "blue box", "old map", "gold"],
                       "cosine": [1.0, 1.0, 1.0, 1.0]})
    text = tour.chain_sentence(df)
    assert "walks 3 hops (red key → blue box → old map → gold)" in text
    assert "code cosine 1.00 at every hop" in text
    df.loc[2, "cosine"], df.loc[3, ["id", "label", "cosine"]] = 0.6, [-1, "∅", 0.0]
    text = tour.chain_sentence(df)
    assert "walks 2 hops (red key → blue box → old map)" in text
    assert "between 0.60 and 1.00" in text and "at hop 3 W recalls nothing" in text
    assert "every hop" not in text
