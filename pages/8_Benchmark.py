import streamlit as st

from lab import ui
from lab.conversation import benchmark
from lab.workspace import frame
from nuonuo_core.retrieval import METHODS
from nuonuo_core.embed_cache import cached_minilm

frame.page("📊 Benchmark: LoCoMo",
        "Real long-conversation memory: each conversation's turns become memories, each "
        "question is a query, and we count how many of its evidence turns land in the top k. "
        "Flat cosine is the baseline; the other rows add the engine's channels one by one "
        "(see docs/retrieval.md). Embeddings are cached on disk, so a rerun is fast.",
        r"\mathrm{recall@}k = \frac{1}{|Q|}\sum_{q\in Q}"
        r"\frac{|\,\mathrm{evidence}(q)\cap \mathrm{top}_k(q)\,|}{|\,\mathrm{evidence}(q)\,|}")
up = st.file_uploader("Upload LoCoMo's locomo10.json (optional)", type=["json"],
                      key="bench_upload", max_upload_size=benchmark.MAX_UPLOAD_BYTES // 2**20,
                      help="Without an upload the page reads the configured data folder.")
try:
    convs = (benchmark.upload_conversations(up.getvalue(), up.name) if up
             else benchmark.folder_conversations())
except ValueError as exc:
    ui.error(exc)
    st.stop()
if convs is None:
    st.info(benchmark.where_to_get())
    st.code(str(benchmark.data_dir()), language=None)
    st.stop()
names = [c.sample_id for c in convs]
source = f"upload:{up.file_id}" if up else "folder"
where = (f"your upload {up.name[:80]!r}" if up else
         f"the data folder {benchmark.data_dir().resolve()} (NUONUO_DATA_DIR)")
st.caption(ui.plain(f"Data: {len(convs)} LoCoMo conversations from {where}."))
pick = st.multiselect("Conversations", names, default=names[:1], key=f"bench_convs:{source}",
                      help="One conversation takes ~10 s once its embeddings are cached.")
methods = st.multiselect("Methods", list(METHODS), default=list(benchmark.DEFAULT_METHODS),
                         key="bench_methods", help="Each method is one row of the table.")
if st.button("▶ Run benchmark", type="primary", key="bench_run"):
    bar = st.progress(0.0, "starting…")
    try:
        chosen = [c for c in convs if c.sample_id in pick]
        st.session_state["bench_df"] = benchmark.run(
            chosen, methods, cached_minilm(),
            progress=lambda i, n, msg: bar.progress(min(i / max(n, 1), 1.0), msg))
        st.session_state["bench_from"] = (f"{', '.join(c.sample_id for c in chosen)} from "
                                          f"{where}")
    except (ValueError, OSError) as exc:
        ui.error(exc)
    bar.empty()
df = st.session_state.get("bench_df")
if df is None:
    st.info("Choose conversations and methods, then press **Run benchmark**.")
    st.stop()
if st.session_state.get("bench_from"):
    st.markdown("**Results of** " + ui.plain(st.session_state["bench_from"]))
cats = list(dict.fromkeys(df.category))
category = st.selectbox("Category", cats, key="bench_cat")
st.dataframe(benchmark.table(df, category), key="bench_table")
ui.chart(benchmark.chart(df, category), df, "locomo_recall")
