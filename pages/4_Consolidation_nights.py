import streamlit as st

from lab import charts, limits, ui
from lab.nights import phase, player
from lab.workspace import demos, frame, memory_rows, state

frame.page("🌙 Consolidation nights",
        "Each step is a **day** (learn new memories) and a **night**: every epoch W is scaled "
        "down (homeostasis), the replay buffer is replayed, and weak weights are pruned. Two "
        "twins learn the same days; only one replays. ★ marks priority memories.",
        r"W \leftarrow h\,W;\quad W \mathrel{+}= \eta\,\mathrm{imp}_m\, c_{t(m)} c_{m}^\top"
        r"\ (m \in \text{replay});\quad w_{ij} \leftarrow 0 \text{ if } |w_{ij}| < \theta")
for key, value in (("night_source", "teaching"), ("per_day", 8), ("epochs", 3),
                   ("homeostasis", 0.7), ("prune", 0.1), ("replay_noise", 0.0), ("keep", 0.5),
                   ("metric", "recall")):
    state.ui_default(key, value)          # saved for this browser's link: a reload keeps them
c1, c2, c3 = st.columns(3)
source = c1.selectbox("Days are made of", ["teaching", "assistant", "my workspace"],
                      key="night_source", help="Which memories are learned, in order.")
day_lim = limits.PAGE["per_day"]
per_day = c1.number_input("Memories per day", day_lim.lo, day_lim.hi, step=1, key="per_day",
                          help="n: day d learns memories (d−1)·n … d·n−1 of the list. "
                               + day_lim.help())
N = limits.NIGHT
epochs = c2.slider("Epochs per night", N["epochs"].lo, N["epochs"].hi, key="epochs",
                   help="The night loop (scale, replay, prune) runs this many times.")
homeo = c2.slider("Homeostasis h", N["homeostasis"].lo, N["homeostasis"].hi, step=0.05,
                  key="homeostasis",
                  help="W ← h·W each epoch; an unreplayed weight decays as h^(epochs·nights).")
prune = c2.slider("Prune threshold θ", 0.0, 1.0, step=0.01, key="prune",
                  help="w_ij ← 0 where |w_ij| < θ after each epoch.")
noise = c3.slider("Replay noise σ", N["replay_noise"].lo, N["replay_noise"].hi, step=0.01,
                  key="replay_noise", help="Replayed cue = normalise(x + σ·n); ceil(imp) "
                                           "replays of weight η·imp/ceil(imp).")
keep = c3.slider("Keep fraction", N["keep_fraction"].lo, N["keep_fraction"].hi, step=0.05,
                 key="keep", help="After each night the replay buffer keeps ceil(f·size) "
                                  "memories, most important first.")
params = player.NightParams(epochs=epochs, replay_noise=noise, homeostasis=homeo,
                            prune_threshold=prune, keep_fraction=keep)


with st.expander("Sleep my own workspace tonight (same settings)"):
    if st.button("🌙 Sleep the workspace one night", key="sleep_ws"):
        bar = st.progress(0.0, "sleeping…")
        try:
            st.success(player.sleep_workspace(state.memory(), params,
                                              lambda i, n: bar.progress(i / max(n, 1))))
            state.changed()
        except ValueError as exc:
            ui.error(exc)
        bar.empty()


# --- phase map: where forgetting starts (experiment sleep_phase; lab/phase.py) -------------
with st.expander("🗺 Where does forgetting start? Survival over homeostasis × pruning"):
    st.markdown("Day 1 stores 20 random pairs, every later day 20 more; each night scales, "
                "replays (or not) and prunes. A cell is **survival** after N nights: the "
                "fraction of day-1 memories recalled by the strict criterion (right memory, "
                "≥ half its code; nothing recalled is a miss). Outlined: the seed's setting "
                "(red, h 0.95, θ 1e-3) and ours (dashed; c: h 0.9, θ 0.1; e: h 0.95, θ 0.1). "
                "Command: "
                f"`{phase.COMMAND} --out phase.csv`.")
    p1, p2 = st.columns(2)
    ph_night = p1.slider("After N nights", 1, 10, 10, key="phase_night")
    ph_metric = p2.radio("Measure", ["survival", "code_cos", "rate"], horizontal=True,
                         key="phase_metric", help="survival: strict recall@1 (ours); "
                         "code_cos / rate: the seed's metric (code cosine, share > 0.5).")
    if st.button("▶ Compute the phase map (64 runs, about a minute)", key="phase_go"):
        ph_bar = st.progress(0.0, "starting…")
        st.session_state["phase_df"] = phase.run(lambda f, t: ph_bar.progress(f, t))
        ph_bar.empty()
    if st.session_state.get("phase_df") is not None:
        ph_df = st.session_state["phase_df"]
        ui.chart(phase.heatmap(ph_df, ph_night, ph_metric), phase.at_night(ph_df, ph_night),
                 "phase")


def fresh() -> player.NightLab:
    rows = memory_rows.rows_of(state.memory()) if source == "my workspace" else demos.load(source)
    return player.NightLab(demos.split_days(rows, per_day), state.encoder())


def plan_key() -> dict:
    """What the saved stepper must match to be replayed: the days (and, for my workspace,
    which memories it held)."""
    mem = state.memory()
    ws = [len(mem), int(sum(mem.ids()))] if source == "my workspace" else None
    return {"source": source, "per_day": int(per_day), "workspace": ws}


b1, b2, b3 = st.columns([3, 2, 2])   # the step label stays whole at 1024 px
step, play, reset = (b1.button("⏭ Step: a day and a night", type="primary", key="step"),
                     b2.button("▶ Play all", key="play"), b3.button("↺ Reset", key="reset"))
try:
    if reset or st.session_state.get("night_sig") != (source, per_day):
        lab = fresh()
        saved = state.ui_get("night_plan")
        if not reset and "night_lab" not in st.session_state and saved is not None:
            if {k: saved[k] for k in ("source", "per_day", "workspace")} == plan_key():
                bar = st.progress(0.0, "restoring your night stepper…")
                lab.replay(saved["nights"], lambda f, t: bar.progress(f, t))
                bar.empty()
                if lab.nights:
                    state.flash("info", f"Restored your night stepper at night {lab.nights}.")
            else:
                st.info("Your saved night stepper was made on other days (another workspace "
                        "or setting); it starts again at night 0.")
        st.session_state["night_lab"] = lab
        st.session_state["night_sig"] = (source, per_day)
    lab = st.session_state["night_lab"]
    n_steps = 1 if step else (len(lab.days) + 3 - lab.nights if play else 0)
    if n_steps:
        bar = st.progress(0.0, "sleeping…")
        for i in range(max(n_steps, 1)):
            lab.step(params)
            bar.progress((i + 1) / max(n_steps, 1), f"night {lab.nights}")
        bar.empty()
    if n_steps or reset:
        state.ui_put("night_plan", {**plan_key(), "nights": lab.plan()})
except ValueError as exc:
    ui.error(exc)
    st.stop()
state.show_flash()
st.markdown(f"**Night {lab.nights}** · learned {len(lab.day_ids)} of {len(lab.days)} days")
if lab.nights == 0:
    st.info("Press **Step** to learn day 1 and sleep one night.")
    st.stop()
c1, c2 = st.columns(2)
metric = c1.radio("Score", list(player.METRICS), key="metric", horizontal=True,
                  format_func={"recall": "strict recall@1", "code_cos": "code cosine"}.get,
                  help="Strict: a memory counts only when the Hebbian recall's top-1 is that "
                       "memory (no answer is a miss). Code cosine (the seed's metric): overlap "
                       "of the recalled code with the target code / √(k · live units).")
shown = (1, lab.nights)
if lab.nights > 12:
    shown = c2.slider("Nights shown (and learning days)", 1, lab.nights, (1, lab.nights),
                      key="night_range", help="Zoom the night and day axes of the charts.")
met, sur, fg, pri = (lab.metrics_frame(), lab.survival_frame(metric),
                     lab.forgetting_frame(metric), lab.priority_frame(metric))
met, pri = (d[d.night.between(*shown)] for d in (met, pri))
sur = sur[sur.learn_day.between(*shown)]
ui.chart(charts.night_metrics(met), met, "night_w")
st.caption(ui.plain(lab.budget_sentence() + " Each epoch homeostasis scales W down (×h), "
                    "replay adds the replayed memories' links back (only the twin with "
                    "replay), pruning cuts cells below θ; each part is the change of ‖W‖ at "
                    "its own step, and they add up to the night's change."))
a, b = st.columns(2)
with a:
    ui.chart(charts.survival(sur), sur, "night_survival")
with b:
    ui.chart(charts.forgetting(fg), fg, "night_forgetting")
a, b = st.columns(2)
with a:
    ui.chart(charts.priority(pri), pri, "night_priority")
with b:
    st.markdown("**Memories by day** (★ = priority, importance > 1)")
    st.dataframe(lab.memories_frame(), hide_index=True, height=330,
                 column_config={"cue": st.column_config.TextColumn(width="large")})
