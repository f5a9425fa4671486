"""The Sweep page's panels: the owner's last sweep restored into the form, live progress with a
cancel button, the results chart (lines with 95 % CIs, or a heatmap), and the run on the
visitor's own memories."""
from __future__ import annotations

import hashlib
import json
import shlex
import time

import pandas as pd
import streamlit as st

from lab import ui
from lab.workspace import state
from nuonuo_core.experiments import EXPERIMENTS
from nuonuo_core.sweep import cpu_count

from . import charts as sc, findings, jobs, own, saved

SOURCES = {"generated": "The experiment's own generated data",
           "workspace": "My workspace's memories (recall with noise)"}
RESTORED = "sw_restored"       # the owner's last sweep was read into the form (once a session)
SAVED = "sw_saved"             # what was read: {"generated": entry, "workspace": entry}
WS_RESULT = "sw_ws_result"     # this session's last run on the workspace (an entry)
MAX_PANELS = 4


# --- the owner's last sweep ---------------------------------------------------------------------
def restore_last() -> None:
    """Once a session, before any of the page's widgets exists: the owner's last sweep (its
    form values; the chart choices are applied as the chart's widgets are made)."""
    if st.session_state.get(RESTORED):
        return
    st.session_state[RESTORED] = True
    try:
        data, problems = saved.load(state.owner())
    except (ValueError, OSError) as exc:
        data, problems = {}, [f"the saved last sweep could not be read ({exc})"]
    for text in problems:
        st.warning(ui.plain(text))
    st.session_state[SAVED] = data
    if data.get("source") in SOURCES:
        st.session_state["sw_source"] = data["source"]
    if "generated" in data:
        _fill_form(data["generated"]["settings"])
    if "workspace" in data:
        _fill_workspace(data["workspace"]["settings"])
    if data:
        st.caption("↺ Your last sweep is back: it is kept in your private folder, so a "
                   "reload or this link brings it back.")


def _fill_form(s: dict) -> None:
    exp = s.get("experiment")
    if exp not in EXPERIMENTS:
        return
    specs = {p.name: p for p in jobs.params(exp)}
    vary = [n for n in s.get("vary", {}) if n in specs and specs[n].axis][:jobs.MAX_AXES]
    st.session_state["sw_exp"] = exp
    st.session_state[f"sw_vary:{exp}"] = vary
    for n in vary:
        st.session_state[f"sw_val:{exp}:{n}"] = s["vary"][n]
    for n, text in s.get("fixed", {}).items():
        if n in specs and not specs[n].locked and n not in vary:
            st.session_state[f"sw_fix:{exp}:{n}"] = text
    if "seeds" in s:
        st.session_state["sw_seeds"] = s["seeds"]
    if s.get("backend") in ("local", "ray"):
        st.session_state["sw_backend"] = s["backend"]
    if "workers" in s:
        st.session_state["sw_workers"] = min(max(int(s["workers"]), 1), cpu_count())


def _fill_workspace(s: dict) -> None:
    for key, name in (("sw_ws_noise", "noise_stds"), ("sw_ws_seeds", "seeds")):
        if name in s:
            st.session_state[key] = s[name]
    if "n_queries" in s:
        st.session_state["sw_ws_queries"] = min(max(int(s["n_queries"]), 1), own.MAX_QUERIES)
    if "methods" in s:
        st.session_state["sw_ws_methods"] = [m for m in own.METHODS if m in s["methods"]]


def saved_entry(kind: str) -> dict | None:
    return st.session_state.get(SAVED, {}).get(kind)


def saved_results(grid: jobs.Grid) -> tuple[pd.DataFrame | None, bool, str | None]:
    """The owner's saved records of this grid, when the sweep cache no longer has them:
    (records, complete, a note for the page). Records of an older engine version of the same
    grid are shown too, and the note says so."""
    entry = saved_entry("generated")
    if not entry or entry.get("grid", [])[:1] != [grid.experiment]:
        return None, False, None
    if entry["grid"] != grid.cli_args():
        return None, False, None
    df = saved.records(entry)
    if df is None:
        return None, False, None
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.get("saved_at", 0)))
    note = (f"Shown from your saved last sweep ({when}); the engine's code may have changed "
            "since: run it again to refresh.")
    return df, bool(entry.get("complete", False)), note


def _fingerprint(entry: dict) -> str:
    blob = json.dumps({k: v for k, v in entry.items() if k not in ("saved_at", "records")},
                      sort_keys=True) + str(len(entry.get("records", "")))
    return hashlib.sha256(blob.encode()).hexdigest()


def remember(kind: str, entry: dict) -> None:
    """Save ``entry`` as the owner's last ``kind`` sweep, when it differs from the one this
    session saved (or restored) last."""
    key = f"sw_written:{kind}"
    fp = _fingerprint(entry)
    if st.session_state.get(key) == fp:
        return
    try:
        saved.save(state.owner(), kind, entry)
    except (ValueError, OSError) as exc:
        st.caption(f"The last sweep could not be kept for a reload: {ui.plain(exc)}")
        return
    st.session_state[key] = fp
    st.session_state.setdefault(SAVED, {})[kind] = {**entry, "saved_at": time.time()}


# --- widgets with a restored choice -----------------------------------------------------------
def initial(key: str, value):
    """A widget's default, or None when the restore already put its value in the session
    (Streamlit warns about a widget given both)."""
    return None if key in st.session_state else value


def _key(base: str, kind: str, options) -> str:
    """A widget key per kind of run and per list of options, so a choice made among other
    options (another experiment's metrics) never meets this list."""
    digest = hashlib.sha256("\0".join(map(str, options)).encode()).hexdigest()[:8]
    return f"{base}:{kind}:{digest}"


def _pick(where, label: str, options: list, default: int, base: str, kind: str, field: str,
          **kw):
    """A selectbox whose first value is the restored chart choice when it is one of the
    options (else ``default``)."""
    chart = (saved_entry(kind) or {}).get("chart", {})
    key = _key(base, kind, options)
    if key not in st.session_state and chart.get(field) in [str(o) for o in options]:
        default = [str(o) for o in options].index(chart[field])
    return where.selectbox(label, options, index=default, key=key, **kw)


# --- progress and results -----------------------------------------------------------------------
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


def _table(s: pd.DataFrame, x: str, keys: list[str]) -> pd.DataFrame:
    """Mean ± CI half-width, one row per x value, one column per line."""
    s = s.copy()
    s["line"] = s[keys].astype(str).agg(" · ".join, axis=1) if keys else "all"
    s["cell"] = [f"{m:.3f}" + (f" ± {h:.3f}" if h == h and n > 1 else "")
                 for m, h, n in zip(s["mean"], s["half_width"], s["n"])]
    return s.pivot_table(index=x, columns="line", values="cell", aggfunc="first",
                         sort=False).reset_index()


def chart_panel(df: pd.DataFrame, axes: list[str], metrics: list[str], dims: list[str],
                kind: str, name: str) -> dict:
    """Metric, interval, x axis, colour and filters; the chart with its caption and a table.
    Returns the chart choices (saved with the last sweep)."""
    c1, c2, c3 = st.columns(3)
    metric = _pick(c1, "Metric", metrics, sc.default_metric(metrics), "sw_metric", kind,
                   "metric")
    interval = _pick(c2, "Interval over seeds", list(sc.INTERVALS), 0, "sw_interval", kind,
                     "interval", format_func=lambda m: f"95 % CI, {sc.INTERVALS[m]}",
                     help="t: Student's t over seeds (right for 3-10 seeds). bootstrap: the "
                          "percentile bootstrap of the seeds (no normal assumption; too "
                          "narrow below ~10 seeds).")
    view, x, family = "lines", (axes[0] if axes else None), None
    if len(axes) == 2:
        view = _pick(c3, "View", ["lines", "heatmap"], 0, "sw_view", kind, "view",
                     format_func={"lines": "lines with error bars",
                                  "heatmap": "heatmap (mean ± CI)"}.get)
    d1, d2, _ = st.columns(3)
    if len(axes) == 2:
        x = _pick(d1, "x axis", axes, sc.default_x(df, axes), "sw_x", kind, "x",
                  help="The other varied parameter becomes a family of lines (shades).")
        family = next(a for a in axes if a != x)
    colour = None
    if dims:
        default = dims.index("method") if "method" in dims else 0
        colour = _pick(d2 if len(axes) == 2 else d1,
                       "Colour by" if view == "lines" else "One panel per", dims, default,
                       "sw_colour", kind, "colour")
    sel = df
    show: list = []
    if colour:
        values = list(dict.fromkeys(df[colour]))
        chart = (saved_entry(kind) or {}).get("chart", {})
        key = _key(f"sw_show:{colour}", kind, values)
        start = [v for v in values if str(v) in chart.get("show", [])] \
            if key not in st.session_state and chart.get("colour") == colour else values
        show = st.multiselect(f"{colour} shown", values, default=start or values, key=key)
        sel = sel[sel[colour].isin(show)]
        if view == "heatmap" and len(show) > MAX_PANELS:
            st.caption(f"The heatmap shows the first {MAX_PANELS} {colour} values.")
            sel = sel[sel[colour].isin(show[:MAX_PANELS])]
    rest = [d for d in dims if d != colour]
    for col, d in zip(st.columns(len(rest)) if rest else [], rest):
        values = list(dict.fromkeys(df[d]))
        value = col.selectbox(d, values, key=_key(f"sw_filter:{d}", kind, values))
        sel = sel[sel[d] == value]
    choices = {"metric": metric, "interval": interval, "view": view, "x": x or "",
               "colour": colour or "", "show": [str(v) for v in show]}
    if sel.empty:
        st.info("Nothing to draw: choose at least one value to show.")
        return choices
    seeds = int(sel["seed"].nunique())
    by = [a for a in axes] + ([colour] if colour else [])
    s = sc.summary(sel, by, metric, interval)
    if not axes:
        st.dataframe(s.drop(columns=["plus", "minus"]), key=f"sw_table_{kind}")
        st.caption(sc.interval_text(interval, seeds))
        return choices
    if view == "heatmap":
        fig = sc.heatmap(s, x, family, metric, colour)
    else:
        fig = sc.lines(s, x, metric, colour, family, interval)
    ui.chart(fig, s.drop(columns=["plus", "minus"]), f"sweep_{name}")
    how = ""
    if view == "lines" and colour and family:
        how = (f" Colour: {colour} (the lab's colours); shade, dash and marker: {family}, "
               "lighter = smaller.")
    elif view == "lines" and family:
        how = f" Colour, dash and marker: {family}, lighter = smaller."
    elif view == "heatmap":
        how = " Each cell: mean ± half-width of its 95 % CI."
    st.caption(sc.interval_text(interval, seeds) + how + " Lines on top of each other are "
               "pulled a little apart along x (hover for the exact values).")
    with st.expander("The chart as a table (mean ± 95 % CI half-width)"):
        st.dataframe(_table(s, x, ([colour] if colour else []) + ([family] if family else [])),
                     hide_index=True, key=f"sw_ci_table_{kind}")
    return choices


def results_panel(grid: jobs.Grid, df: pd.DataFrame, complete: bool, settings: dict) -> None:
    """The chart of a sweep's records, the records' CSV and the command; the sweep is kept
    as the owner's last one."""
    axes, metrics, dims = sc.roles(grid, df)
    choices: dict = {}
    if not metrics:
        st.dataframe(df, key="sw_table")
    else:
        choices = chart_panel(df, axes, metrics, dims, "generated", grid.experiment)
    st.download_button("⬇ All records (CSV)", df.to_csv(index=False).encode("utf-8"),
                       file_name=f"nuonuo_sweep_{grid.experiment}.csv", mime="text/csv",
                       key="sw_records", on_click="ignore")
    st.caption("The same sweep from the command line:")
    st.code("python -m nuonuo_core.sweep " + shlex.join(grid.cli_args()), language="bash")
    remember("generated", {"settings": settings, "chart": choices, "grid": grid.cli_args(),
                           "complete": bool(complete), "records": saved.records_text(df)})


# --- the visitor's own memories -------------------------------------------------------------
def workspace_panel() -> None:
    """Recall with noise on the workspace's own stored cues, per method and seed."""
    mem = state.memory()
    n = len(mem)
    st.markdown(
        "**What this measures.** Each of your memories is recalled from its own stored cue "
        "(the embedding the workspace holds) with Gaussian noise σ added, by each method; "
        "**recall@1** is the fraction answered with the right memory. Memories whose cues "
        "look alike fail first, so this shows how far apart *your* memories lie for each "
        "method. Answers are taken without the confidence threshold (what the memory "
        "holds, not when it would answer). Your workspace is only read, never changed.")
    st.caption(f"Data: the {ui.count(n)} of your workspace “{ui.plain(state.name())}” "
               "(their stored cue embeddings, 384-d MiniLM for text memories), noise of σ per "
               "dimension; with more memories than cues a seed, each seed draws its own "
               "sample.")
    c1, c2 = st.columns(2)
    noise = c1.text_input(f"Noise σ values (at most {own.MAX_LEVELS}, each in [0, "
                          f"{own.MAX_NOISE:g}])", initial("sw_ws_noise", own.DEFAULT_NOISE),
                          key="sw_ws_noise", help=ui.HELP["noise"])
    methods = c2.multiselect("Methods", list(own.METHODS),
                             default=initial("sw_ws_methods", list(own.METHODS)),
                             key="sw_ws_methods")
    c3, c4 = st.columns(2)
    seeds = c3.text_input(f"Seeds (at most {own.MAX_SEEDS})",
                          initial("sw_ws_seeds", own.DEFAULT_SEEDS), key="sw_ws_seeds",
                          help="≥ 3 seeds give an interval worth reading.")
    nq = c4.number_input(f"Cues a seed (at most {own.MAX_QUERIES})", 1, own.MAX_QUERIES,
                         initial("sw_ws_queries", own.DEFAULT_QUERIES), key="sw_ws_queries")
    try:
        cfg = own.parse(noise, methods, seeds, nq)
    except ValueError as exc:
        ui.error(exc)
        return
    st.caption(f"{min(cfg.n_queries, n)} cues × {len(cfg.noise_stds)} noise levels × "
               f"{len(cfg.seeds)} seeds × {len(cfg.methods)} methods.")
    if st.button("▶ Run on my memories", type="primary", key="sw_ws_run"):
        bar = st.progress(0.0, text="Recalling…")
        try:
            df = own.run(mem, cfg, progress=lambda f, text: bar.progress(f, text=text))
        except ValueError as exc:
            bar.empty()
            ui.error(exc)
            return
        bar.empty()
        st.session_state[WS_RESULT] = {
            "settings": {"noise_stds": noise, "seeds": seeds, "n_queries": int(nq),
                         "methods": list(cfg.methods)},
            "workspace": state.name(), "memories": n, "records": saved.records_text(df),
            "saved_at": time.time(), "_df": df}
    entry = st.session_state.get(WS_RESULT) or saved_entry("workspace")
    if not entry:
        return
    df = entry.get("_df")
    if df is None:
        df = saved.records(entry)
    if df is None:
        st.info("Your last run on the workspace was too large to keep; run it again.")
        return
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.get("saved_at", 0)))
    st.markdown(f"**Last run:** workspace “{ui.plain(entry.get('workspace', '?'))}”, "
                f"{ui.count(int(entry.get('memories', 0)))}, {when}.")
    axes = ["noise_std"] if df["noise_std"].nunique() > 1 else []
    dims = ["method"] if df["method"].nunique() > 1 else []
    choices = chart_panel(df, axes, ["recall_at_1", "cue_cosine"], dims, "workspace",
                          "workspace_recall")
    remember("workspace", {**{k: v for k, v in entry.items() if k != "_df"},
                           "chart": choices})


# --- the findings -------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def _finding(name: str, stamp: tuple) -> tuple[pd.DataFrame | None, str]:
    """(records, headline) of a committed result file; ``stamp`` (size, mtime) re-reads it
    when the file changes."""
    df = findings.load(name)
    return df, (findings.headline(name, df) if df is not None else "")


@st.cache_data(show_spinner=False, max_entries=16)
def _headline(name: str, signature: str, rows: int, _df: pd.DataFrame) -> str:
    return findings.headline(name, _df)


SOURCES_FD = {"committed": "committed result files (seeds 0–4)",
              "quick": "the quick preset run here (seeds 0–2)"}


def finding_panel(f: findings.Finding, number: int) -> None:
    """One finding: its question, the computed headline, the chart for the chosen panel with
    95 % CIs, what data it ran on and the command that made the records; a rerun of the
    quick preset on demand."""
    path = findings.FOLDER / f"{f.name}.csv"
    stamp = (path.stat().st_size, path.stat().st_mtime) if path.is_file() else (0, 0)
    st.subheader(f"{number} · {f.title}")
    st.markdown(f.question)
    df, head = _finding(f.name, stamp)
    grid = findings.quick_grid(f.name)
    quick, complete = jobs.results(grid)
    quick = quick if complete else None
    sources = [k for k, d in (("committed", df), ("quick", quick)) if d is not None]
    source = sources[0] if len(sources) == 1 else st.radio(
        "Records", sources, format_func=SOURCES_FD.get, horizontal=True,
        key=f"fd_src_{f.name}") if sources else None
    if source == "quick":
        df, head = quick, _headline(f.name, grid.signature(), len(quick), quick)
    if df is None:
        st.warning(f"The result file docs/results/{f.name}.csv is missing here. Make it "
                   f"with `{findings.command(f.name)}` (or `make results-data` for all), "
                   "or run the quick preset below.")
    else:
        st.markdown(f"**Finding.** {head}")
        cols = st.columns(len(f.controls))
        choice = {}
        for col, c in zip(cols, f.controls):
            opts = findings.options(df, c)
            choice[c.column] = col.selectbox(c.label, opts, format_func=c.text,
                                             index=opts.index(c.default) if c.default in opts
                                             else 0, key=f"fd_{f.name}_{c.column}_{source}")
        fig, s = findings.figure(f.name, df, choice)
        ui.chart(fig, s.drop(columns=["plus", "minus"]), f"finding_{f.name}")
        made = (f"docs/results/{f.name}.csv, made by `{findings.command(f.name)}`"
                if source == "committed" else
                f"the quick preset, `python -m nuonuo_core.sweep {shlex.join(grid.cli_args())}`")
        st.caption(sc.interval_text("t", int(df["seed"].nunique())) +
                   f" Data: {findings.data_line(f.name)}. Records: {made}.")
    with st.expander("Rerun it here: the quick preset, seeds 0–2 (about a minute a seed)"):
        job = jobs.job(grid)
        if job is not None:
            progress_panel(job)
        elif complete:
            st.caption("Done: choose its records above.")
        elif st.button("▶ Run the quick preset", key=f"fd_run_{f.name}"):
            try:
                jobs.start(grid)
                st.rerun()
            except (ValueError, OSError) as exc:
                ui.error(exc)
