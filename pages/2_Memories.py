import streamlit as st

from lab import ui
from lab.workspace import demos, frame, memory_rows, state

frame.page("🗂️ Memories",
        "A memory is a **cue** that recalls a **target** (or itself). Paraphrases add extra cue "
        "rows for the same target; importance sets how strongly it is replayed at night.",
        r"W \mathrel{+}= \eta \sum_{r \in \mathrm{cues}(m)} c_{\mathrm{target}(m)}\, c_r^\top")
mem = state.memory()
add, bulk, demo = st.tabs(["➕ Add one", "📥 Bulk import", "🎁 Demo sets"])
with add, st.form("add_memory"):
    cue = st.text_input("Cue", max_chars=memory_rows.MAX_TEXT,
                        help="What you will ask with; encoded to x = MiniLM(cue).")
    target = st.text_input("Target (optional)", max_chars=memory_rows.MAX_TEXT,
                           help="What the cue should recall; empty stores a self-association "
                                "cue → cue.")
    paras = st.text_area("Paraphrases (one per line)", max_chars=50_000,
                         help="Extra cue rows r with W += η c_target c_rᵀ each.")
    imp = st.number_input("Importance", value=1.0, help=ui.HELP["importance"] +
                          " Allowed: (0, 100].")
    if st.form_submit_button("Add memory", type="primary"):
        try:
            row = memory_rows.make_row(cue, target, paras.splitlines(), imp)
            if frame.add_rows([row], f"cue '{row.cue[:60]}'"):
                st.rerun()
        except ValueError as exc:
            ui.error(exc)
with bulk:
    st.caption("CSV with a header `cue,target,paraphrases,importance` (paraphrases split by "
               "`|`), a JSON list of objects, or text lines `cue -> target`. Max 5 MB.")
    up = st.file_uploader("File", type=["csv", "json", "txt"], key="import_file",
                          max_upload_size=memory_rows.MAX_UPLOAD_BYTES // 2**20)
    pasted = st.text_area("…or paste", key="import_text", height=120,
                          max_chars=memory_rows.MAX_UPLOAD_BYTES)
    fmt = st.radio("Format of pasted text", memory_rows.FORMATS, horizontal=True, key="import_fmt")
    data, kind = (up.getvalue(), memory_rows.guess_format(up.name)) if up else (pasted, fmt)
    if (up or pasted.strip()):
        try:
            result = memory_rows.parse(data, kind)
        except ValueError as exc:
            ui.error(exc)
        else:
            st.markdown(f"**Preview:** {len(result.rows)} valid rows, "
                        f"{len(result.errors)} with errors")   # numbers only
            st.dataframe(result.preview(), hide_index=True, height=200)
            if result.errors:
                st.warning("These rows will be skipped:")
                st.dataframe(result.errors_frame(), hide_index=True)
            if st.button(f"Import {len(result.rows)} memories", disabled=not result.rows,
                         key="import_go") and frame.add_rows(result.rows, "bulk import"):
                st.rerun()
with demo:
    for key, (title, _, about) in demos.DEMOS.items():
        if st.button(f"Load {title.lower()}", key=f"demo_{key}", help=about):
            if frame.add_rows(demos.load(key), f"demo set: {title}"):
                st.rerun()

st.subheader(f"Stored memories ({len(mem)})")
table = memory_rows.memories_frame(mem)
query = st.text_input("Search", key="search", max_chars=200,
                      placeholder="filter cue, target, paraphrases")
if query.strip():
    hay = table.cue + " " + table.target + " " + table.paraphrases
    table = table[hay.str.contains(query.strip(), case=False, regex=False)]
st.dataframe(table, hide_index=True, key="memory_table")
c1, c2, c3 = st.columns([2, 1, 1])   # export labels stay whole at 1024 px
gone = c1.multiselect("Delete memories", table.id.tolist(), key="delete_ids",
                      format_func=lambda i: f"#{i} {mem.get(i)['cue'] or ''}"[:60])
if c1.button("🗑️ Delete selected", disabled=not gone, key="delete_go"):
    try:
        state.flash("success", f"Deleted {ui.count(mem.remove(gone))}.")
        state.changed()
        st.session_state.pop("delete_ids", None)
        st.rerun()
    except (KeyError, ValueError) as exc:
        ui.error(exc)
version = state.signature(mem)
with c2:
    ui.download("⬇ Export CSV", lambda: memory_rows.export_csv(mem), "memories.csv", "text/csv",
                "export_csv", version)
with c3:
    ui.download("⬇ Export JSON", lambda: memory_rows.export_json(mem), "memories.json",
                "application/json", "export_json", version)
