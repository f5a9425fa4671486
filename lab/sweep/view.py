"""The Sweep page's panels: live progress with a cancel button, and the results chart."""
from __future__ import annotations

import shlex

import streamlit as st

from lab import ui

from . import charts as sc, jobs


@st.fragment(run_every=1.0)
def progress_panel(job: jobs.Job) -> None:
    """Polls the running job each second; reruns the page when it ends."""
    p = job.progress()
    st.progress(p["done"] / p["total"],
                text=f"{p['done']} of {p['total']} tasks · {job.backend}, {job.workers} "
                     f"worker(s) · elapsed {jobs.fmt_seconds(p['elapsed'])} · "
                     f"ETA {jobs.fmt_seconds(p['eta'])}")
    if job.cancelled:
        st.caption("Cancelling: stopping the workers and saving finished tasks…")
    elif st.button("■ Cancel", key="sw_cancel"):
        job.cancel()
    if not p["running"]:
        st.rerun()


def results_panel(grid: jobs.Grid, df) -> None:
    """Metric picker, colour / filters for the other dimensions, chart, CSV, the command."""
    axes, metrics, dims = sc.roles(grid, df)
    if not metrics:
        st.dataframe(df, key="sw_table")
        return
    c1, c2 = st.columns(2)
    metric = c1.selectbox("Metric", metrics, index=sc.default_metric(metrics), key="sw_metric")
    colour = None            # lines: colours; heatmap: one panel per value (at most 4)
    if dims and (len(axes) == 1 or (len(axes) == 2 and df[dims[0]].nunique() <= 4)):
        colour = c2.selectbox("Colour by" if len(axes) == 1 else "One panel per", dims,
                              key=f"sw_colour:{len(axes)}")
    rest = [d for d in dims if d != colour]
    sel = df
    if rest:
        for col, d in zip(st.columns(len(rest)), rest):
            value = col.selectbox(d, list(dict.fromkeys(df[d])), key=f"sw_filter:{d}")
            sel = sel[sel[d] == value]
    n_seeds = df["seed"].nunique()
    by = axes + ([colour] if colour else [])
    if len(axes) == 2:
        fig = sc.heatmap(sc.summary(sel, by, metric), axes[0], axes[1], metric, colour)
    elif len(axes) == 1:
        fig = sc.lines(sc.summary(sel, by, metric), axes[0], metric, colour)
    else:
        st.dataframe(sc.summary(sel, dims or ["experiment"], metric), key="sw_table")
        fig = None
    st.markdown(f"**{ui.plain(metric)}**: mean ± sd over {n_seeds} seed(s); every record "
                "is in the CSV.")
    if fig is not None:
        ui.chart(fig, df, f"sweep_{grid.experiment}")
    st.caption("The same sweep from the command line:")
    st.code("python -m nuonuo_core.sweep " + shlex.join(grid.cli_args()), language="bash")
