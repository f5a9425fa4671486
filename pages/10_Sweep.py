import streamlit as st

from lab import ui
from lab.sweep import jobs, view
from lab.workspace import frame
from nuonuo_core.experiments import EXPERIMENTS
from nuonuo_core.sweep import cpu_count

frame.page("🧪 Parameter sweeps",
        "Run an experiment over a grid: every combination of the varied parameters, once per "
        "seed, each as an independent task on this machine's cores (or a Ray cluster). The "
        "chart shows the mean over seeds with its 95 % confidence interval; results are "
        "cached, so reopening a grid is instant, and your last sweep comes back on a reload.",
        r"\text{tasks} = \prod_{p\,\in\,\text{varied}} |\text{values}_p| \times |\text{seeds}|")
view.restore_last()
if st.radio("Data", list(view.SOURCES), format_func=view.SOURCES.get, key="sw_source",
            horizontal=True) == "workspace":
    view.workspace_panel()
    st.stop()
names = list(EXPERIMENTS)
exp = st.selectbox("Experiment", names, index=view.initial("sw_exp", names.index("noise")),
                   key="sw_exp", format_func=lambda n: f"{n}: {EXPERIMENTS[n].title}")
st.caption(f"Data: {EXPERIMENTS[exp].data}")
specs = {p.name: p for p in jobs.params(exp)}
axis_names = [n for n, p in specs.items() if p.axis]
vary = st.multiselect(f"Parameters to vary (at most {jobs.MAX_AXES})", axis_names,
                      default=view.initial(f"sw_vary:{exp}", [
                          n for n in jobs.DEFAULT_VARY.get(exp, {}) if n in axis_names]),
                      max_selections=jobs.MAX_AXES, key=f"sw_vary:{exp}")
values = {n: c.text_input(f"{n} values (v1,v2,…)", view.initial(
              f"sw_val:{exp}:{n}", jobs.vary_value(exp, specs[n])), key=f"sw_val:{exp}:{n}")
          for c, n in zip(st.columns(2), vary)}
with st.expander("Other parameters (one value each; lists pass whole)"):
    cols = st.columns(3)
    fixed = {n: cols[i % 3].text_input(n, view.initial(f"sw_fix:{exp}:{n}",
                                                       jobs.start_value(exp, p)),
                                       key=f"sw_fix:{exp}:{n}", disabled=p.locked)
             for i, (n, p) in enumerate(p for p in specs.items() if p[0] not in vary)}
c1, c2, c3 = st.columns(3)
seeds = c1.text_input("Seeds", view.initial("sw_seeds", jobs.DEFAULT_SEEDS), key="sw_seeds",
                      help="Distinct integers ≥ 0. At least 3 give a confidence interval "
                           "worth reading.")
backend = c2.selectbox("Backend", ["local", "ray"], key="sw_backend",
                       help="local: a process pool here. ray: a private local Ray runtime.")
workers = c3.number_input("Workers", 1, cpu_count(), view.initial("sw_workers", cpu_count()),
                          key="sw_workers")
try:
    grid = jobs.page_grid(exp, values, fixed, seeds)
except ValueError as exc:
    ui.error(exc)
    st.stop()
df, complete = jobs.results(grid)
note = None
if df is None:
    df, complete, note = view.saved_results(grid)
job = jobs.job(grid)
st.caption(f"{grid.n_tasks} tasks (at most {jobs.PAGE_MAX_TASKS}).")
if job is None and not complete and st.button("▶ Run sweep" if df is None else "▶ Resume",
                                               type="primary", key="sw_run"):
    try:
        jobs.start(grid, backend, int(workers))
        st.rerun()
    except (ValueError, OSError) as exc:
        ui.error(exc)
if job is not None:
    view.progress_panel(job)
    st.stop()
for line in jobs.failures(grid):
    ui.error(ValueError(line))
if df is None:
    st.info("Choose the grid, then press **Run sweep**.")
    st.stop()
if note:
    st.info(note)
if not complete:
    st.warning(f"Partial results: {df['task'].nunique()} of {grid.n_tasks} tasks finished.")
view.results_panel(grid, df, complete, {"experiment": exp, "vary": values, "fixed": fixed,
                                        "seeds": seeds, "backend": backend,
                                        "workers": int(workers)})
