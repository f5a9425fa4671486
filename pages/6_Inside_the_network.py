import streamlit as st

from lab import analysis, charts, limits, ui
from lab.workspace import demos, frame, memory_rows, state

frame.page("🔬 Inside the network",
        "A random projection and **k-winners-take-all** turn each embedding into a sparse code "
        "with exactly k active units; **W** stores cue→target code pairs; the Hopfield "
        "**β** decides whether recall blends several stored patterns or snaps to one.",
        r"c = \mathrm{kWTA}_k(Px),\quad W = \eta \sum_m c_{t(m)} c_m^\top,\quad "
        r"a = \mathrm{softmax}(\beta X \xi)")
mem = state.memory()
st.subheader("W as a heatmap")
small = mem if mem.config.code_dim <= 4096 and len(mem) else st.session_state.get("small_net")
if small is None:
    st.info(f"This workspace has D = {mem.config.code_dim}; W is drawn for D ≤ 4096. Build a "
            "small teaching network (D = 256, k = 8, the first 6 teaching facts) to see it.")
    if st.button("Build small network", key="build_small"):
        net = state.new_memory(code_dim=256, k=8)
        memory_rows.add_rows(net, demos.load("teaching")[:6])
        st.session_state["small_net"] = net
        st.rerun()
else:
    st.caption(f"Network shown: {'this workspace' if small is mem else 'small teaching network'}"
               f" (D = {small.config.code_dim}, k = {small.config.k}, {len(small)} memories); "
               "w_ij = Σ η over stored pairs with target unit i and cue unit j.")
    w, units = analysis.w_view(small)
    ui.chart(charts.w_heatmap(w, units), analysis.w_frame(w, units), "w_heatmap")

net = mem if len(mem) else small
if net is None or len(net) == 0:
    st.info("Add memories (Home or Memories) to see codes and β.")
    st.stop()
ids = analysis.text_memories(net)
if not ids:
    st.info("This workspace holds only vector memories: add text memories to see codes and β.")
    st.stop()
st.subheader("k-WTA code rasters")
state.ui_keep_choice("beta_query", ids)
if any(i not in ids for i in st.session_state.get("raster_ids", [])):
    st.session_state["raster_ids"] = [i for i in st.session_state["raster_ids"] if i in ids]
state.ui_default("raster_ids", ids[:4])
chosen = st.multiselect("Memories", ids, key="raster_ids", max_selections=16,
                        format_func=lambda i: analysis.label(net, i, 50),
                        help=ui.HELP["k"])
if chosen:
    df = analysis.codes_frame(net, chosen)
    ui.chart(charts.raster(df, net.config.code_dim), df, "code_raster")

st.subheader("β: superposition vs one pattern")
c1, c2 = st.columns([3, 2])
probe = c1.selectbox("Query (a stored cue, with noise)", ids, key="beta_query",
                     format_func=lambda i: analysis.label(net, i, 60))
state.ui_default("beta", 16)
state.ui_default("beta_noise", 0.05)
beta = c2.select_slider("β", [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128], key="beta",
                        help=ui.HELP["beta"])
noise_lim = limits.PAGE["beta_noise"]
noise = c2.slider("Noise σ", noise_lim.lo, noise_lim.hi, step=0.01, key="beta_noise",
                  help=ui.HELP["noise"])
betas = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128]
try:
    att, summary = analysis.beta_sweep(net, net.get(probe)["cue"], betas, noise_std=noise)
except (ValueError, KeyError) as exc:
    ui.error(exc)
    st.stop()
a, b = st.columns(2)
with a:
    now = att[att.beta == float(beta)]
    ui.chart(charts.beta_attention(now, beta), now, "beta_attention")
with b:
    ui.chart(charts.beta_curve(summary), summary, "beta_curve")
table = analysis.answers(net, net.get(probe)["cue"], noise, k=1)
ok, head, evidence = analysis.verdict(table[table.method == "hopfield"], "hopfield")
st.caption(ui.plain(f"Attention is not an answer. Hopfield's answer to this noisy query (at "
                    f"the network's β = {net.config.beta:g}): {head}. {evidence}"))

st.subheader("Capacity and latency")
if st.button("Run capacity & latency curves (~20 s)", key="curves_go"):
    bar = st.progress(0.0, "capacity…")
    cap = analysis.capacity_curve(progress=lambda f, t: bar.progress(f / 2, t))
    lat = analysis.latency_sweep(progress=lambda f, t: bar.progress(0.5 + f / 2, t))
    st.session_state["curves"] = (cap, lat)
    bar.empty()
if "curves" in st.session_state:
    cap, lat = st.session_state["curves"]
    a, b = st.columns(2)
    with a:
        ui.chart(charts.method_lines(cap, "memories", "recall_at_1", "Capacity",
                                     "memories stored", "recall@1", log_x=True), cap, "capacity")
    with b:
        ui.chart(charts.method_lines(lat, "memories", "ms_per_query", "Latency per query",
                                     "memories stored", "ms / query", log_x=True), lat, "latency")
