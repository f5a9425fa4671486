"""Plotly figure builders: one colour per method, white template, labelled axes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

METHOD_COLORS = {"hopfield": "#4C78A8", "hebbian": "#F58518", "cosine": "#54A24B"}
#: the same colours as Streamlit's named markdown colours (labels, without any HTML)
METHOD_NAMED_COLORS = {"hopfield": "blue", "hebbian": "orange", "cosine": "green"}
REPLAY_COLORS = {"with replay": "#4C78A8", "without replay": "#E45756"}
ACCENT = "#B279A2"
EXTRA_COLORS = {"kwta_hebbian": METHOD_COLORS["hebbian"], "classical_hopfield": ACCENT}
#: the models of the pattern views and the findings (nearest neighbour is cosine's lookup)
MODEL_COLORS = {"classical": ACCENT, "modern": METHOD_COLORS["hopfield"],
                "hybrid": METHOD_COLORS["hebbian"], "nearest": METHOD_COLORS["cosine"]}
#: the arms of the sleep experiments (no sleep: the red of "without replay")
ARM_COLORS = {"no_sleep": REPLAY_COLORS["without replay"], "homeostasis_only": "#72B7B2",
              "replay": REPLAY_COLORS["with replay"], "priority_replay": ACCENT}
#: a model's prediction drawn beside a measurement
THEORY_COLOR = "#7F7F7F"
#: every series label the lab colours the same way on every page
SERIES_COLORS = {**METHOD_COLORS, **EXTRA_COLORS, **MODEL_COLORS, **REPLAY_COLORS,
                 **ARM_COLORS, "theory": THEORY_COLOR}
#: labels the lab has no colour for, in turn (none of them is a method colour)
OTHER_COLORS = ("#9D755D", "#FF9DA6", "#BAB0AC", "#EECA3B", "#72B7B2", "#E45756")
TEMPLATE = "plotly_white"
# The lab's template is the process default: Plotly deep-copies a template named in
# update_layout into every figure (20-30 ms a chart, per rerun, per session); the default one
# is applied from a cache (~1 ms). Streamlit sets its own default when it is imported, before
# this module; every builder still goes through template_kw(), which names the template
# whenever something has changed the default since.
pio.templates.default = TEMPLATE


def series_color(label, i: int = 0) -> str:
    """The lab's colour of a series label (a method, model, arm …); else the ``i``-th of
    :data:`OTHER_COLORS`."""
    return SERIES_COLORS.get(str(label), OTHER_COLORS[i % len(OTHER_COLORS)])


def shade(color: str, t: float) -> str:
    """``color`` ('#rrggbb') mixed towards white (t < 0) or black (t > 0) by |t| in [0, 1]."""
    if t == 0:
        return color
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    end = 0 if t > 0 else 255
    mixed = [round(c + (end - c) * min(abs(t), 1.0)) for c in rgb]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def template_kw() -> dict:
    """``update_layout`` keyword for the lab's template: none while it is the default."""
    return {} if pio.templates.default == TEMPLATE else {"template": TEMPLATE}


TITLE_WIDTH = 40   # characters per title line: a half-width column at 1024 px holds ~40


def wrap_title(title: str, width: int = TITLE_WIDTH) -> str:
    """Break a long title into lines of at most ``width`` characters (given <br> kept)."""
    out = []
    for part in title.split("<br>"):
        if part.startswith("<sup>"):
            out.append(part)
            continue
        line = ""
        for word in part.split(" "):
            if line and len(line) + 1 + len(word) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return "<br>".join(out)


def _style(fig: go.Figure, title: str, x: str, y: str, height: int = 340) -> go.Figure:
    title = wrap_title(title)
    lines = title.count("<br>") + 1
    fig.update_layout(**template_kw(), title=dict(text=title, x=0.0, font=dict(size=15)),
                      height=height + 20 * (lines - 1),
                      margin=dict(l=55, r=20, t=32 + 22 * lines, b=50),
                      legend=dict(orientation="h", y=-0.25), font=dict(size=13))
    fig.update_xaxes(title_text=x, automargin=True)
    fig.update_yaxes(title_text=y, automargin=True)
    return fig


MAX_TICKS = 12


def count_ticks(values, max_ticks: int = MAX_TICKS) -> list[int]:
    """Integer tick positions for a night / day / age axis: every value while they fit,
    else every n-th (1, 2, 5, 10, 20 … apart) so at most ``max_ticks`` labels show."""
    vals = sorted({int(v) for v in values})
    if not vals:
        return []
    lo, hi = vals[0], vals[-1]
    step = 1
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10**4, 10**5):
        if (hi - lo) // step + 1 <= max_ticks:
            break
    first = -(-lo // step) * step
    return list(range(first, hi + 1, step)) or [lo]


def _count_axis(fig: go.Figure, values, **where) -> None:
    ticks = count_ticks(values)
    fig.update_xaxes(tickmode="array", tickvals=ticks, ticktext=[str(t) for t in ticks],
                     **where)


def _metric(df: pd.DataFrame) -> tuple[str, str]:
    """(column, axis label) of the score a nights frame carries (see lab.nights.player.METRICS)."""
    if "code_cos" in df.columns:
        return "code_cos", "code cosine (seed's metric)"
    return "recall", "recall@1, strict"


#: each method's line style, so that lines on top of each other stay visible (issue 17:
#: Hopfield under cosine at 100 %): a dash pattern and a marker of its own
METHOD_DASH = {"hopfield": "solid", "hebbian": "dot", "cosine": "dash"}
METHOD_MARKER = {"hopfield": "circle", "hebbian": "diamond", "cosine": "square-open"}
METHOD_WIDTH = {"hopfield": 4, "hebbian": 3, "cosine": 2.5}


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def noise_sweep(df: pd.DataFrame) -> go.Figure:
    """df: noise_std, cosine, method, recall_at_1 (+ ci_low, ci_high, draws: a band per
    method when there are several noise draws). Each method has its own dash and marker,
    and the three are offset by a hair on σ, so equal lines stay visible side by side."""
    fig = go.Figure()
    steps = np.diff(np.sort(df.noise_std.unique())) if len(df) else np.array([])
    shift = 0.06 * float(steps.min()) if len(steps) else 0.0
    for i, (method, color) in enumerate(METHOD_COLORS.items()):
        d = df[df.method == method].sort_values("noise_std")
        if not len(d):
            continue
        x = d.noise_std + (i - 1) * shift
        banded = "ci_low" in d and (d.ci_high - d.ci_low).max() > 0
        if banded:
            fig.add_scatter(x=list(x) + list(x[::-1]), y=list(d.ci_high) + list(d.ci_low[::-1]),
                            fill="toself", fillcolor=_rgba(color, 0.15), mode="lines",
                            line=dict(width=0), hoverinfo="skip", showlegend=False,
                            name=f"{method} 95 % CI")
        extra = ""
        custom = np.stack([d.noise_std, d.cosine], axis=1)
        if "ci_low" in d:
            custom = np.stack([d.noise_std, d.cosine, d.ci_low, d.ci_high], axis=1)
            extra = "<br>95 % CI %{customdata[2]:.2f}–%{customdata[3]:.2f}"
        fig.add_scatter(x=x, y=d.recall_at_1, mode="lines+markers", name=method,
                        line=dict(color=color, width=METHOD_WIDTH[method],
                                  dash=METHOD_DASH[method]),
                        marker=dict(symbol=METHOD_MARKER[method], size=9, color=color,
                                    line=dict(color=color, width=2)),
                        customdata=custom,
                        hovertemplate="σ=%{customdata[0]:.3f}<br>cos=%{customdata[1]:.2f}"
                        "<br>recall@1=%{y:.2f}" + extra + "<extra>" + method + "</extra>")
    fig.update_yaxes(range=[-0.02, 1.05])
    return _style(fig, "Recall vs noise on the cue", "noise σ on the cue embedding",
                  "recall@1 (fraction correct)")


def attention(df: pd.DataFrame) -> go.Figure:
    """df: step, candidate (label), weight — Hopfield attention at each settling step."""
    piv = df.pivot(index="candidate", columns="step", values="weight")
    order = df.drop_duplicates("candidate")["candidate"].tolist()
    piv = piv.reindex(order)
    fig = go.Figure(go.Heatmap(z=piv.values, x=[str(c) for c in piv.columns], y=piv.index,
                               colorscale="Blues", zmin=0, zmax=1,
                               colorbar=dict(title=dict(text="weight", side="top"),
                                             thickness=14)))
    fig.update_yaxes(autorange="reversed")
    return _style(fig, "Attention over the top-K candidates at each step", "settling step",
                  "candidate memory", height=max(300, 28 * len(order) + 120))


ENERGY_FLAT = 1e-3   # an energy axis spans at least this × max(1, |E|): rounding stays flat


def energy_range(values) -> list[float] | None:
    """A y range for an energy chart: the data's, padded, and never narrower than
    ENERGY_FLAT × max(1, |E|), so float rounding (1e-7) does not look like a rise."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, ENERGY_FLAT * max(1.0, float(np.abs(v).max())))
    mid = (lo + hi) / 2
    return [mid - 0.6 * span, mid + 0.6 * span]


def energy(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Scatter(x=df.step, y=df.energy, mode="lines+markers",
                               line=dict(color=METHOD_COLORS["hopfield"], width=3),
                               hovertemplate="step %{x}<br>E = %{y:.6g}<extra></extra>"))
    rng = energy_range(df.energy)
    if rng is not None:
        fig.update_yaxes(range=rng, tickformat=".4~g")
    fig.update_xaxes(dtick=1)
    return _style(fig, "Hopfield energy while settling", "settling step", "energy E(ξ)")


def night_metrics(df: pd.DataFrame) -> go.Figure:
    """df: night, run, w_norm, w_sparsity (one row per run per night)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("‖W‖ (Frobenius norm)",
                                                        "sparsity of W (fraction zero)"))
    for run, color in REPLAY_COLORS.items():
        d = df[df.run == run]
        fig.add_scatter(x=d.night, y=d.w_norm, name=run, line=dict(color=color, width=3),
                        mode="lines+markers", row=1, col=1)
        fig.add_scatter(x=d.night, y=d.w_sparsity, name=run, line=dict(color=color, width=3),
                        mode="lines+markers", row=1, col=2, showlegend=False)
    _count_axis(fig, df.night)
    fig.update_xaxes(title_text="night")
    return _style(fig, "W after each night", "night", "", height=330)


def survival(df: pd.DataFrame) -> go.Figure:
    """df: learn_day, run, recall or code_cos (after the latest night)."""
    col, name = _metric(df)
    fig = go.Figure()
    for run, color in REPLAY_COLORS.items():
        d = df[df.run == run]
        fig.add_bar(x=d.learn_day, y=d[col], name=run, marker_color=color)
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.05])
    _count_axis(fig, df.learn_day)
    return _style(fig, f"Survival of each day's memories now<br><sup>{name}</sup>",
                  "learning day", name, height=360)


def forgetting(df: pd.DataFrame) -> go.Figure:
    """df: age (nights since learning), run, recall or code_cos (mean over days)."""
    col, name = _metric(df)
    fig = go.Figure()
    for run, color in REPLAY_COLORS.items():
        d = df[df.run == run]
        fig.add_scatter(x=d.age, y=d[col], name=run, mode="lines+markers",
                        line=dict(color=color, width=3))
    fig.update_yaxes(range=[-0.02, 1.05])
    _count_axis(fig, df.age)
    return _style(fig, f"Forgetting curve<br><sup>{name}</sup>", "nights since learning",
                  name, height=360)


def priority(df: pd.DataFrame) -> go.Figure:
    """df: night, run, group (★ priority / ordinary), recall or code_cos."""
    col, name = _metric(df)
    fig = go.Figure()
    for run, color in REPLAY_COLORS.items():
        for group, dash in (("★ priority", "solid"), ("ordinary", "dot")):
            d = df[(df.run == run) & (df.group == group)]
            if len(d):
                fig.add_scatter(x=d.night, y=d[col], name=f"{group}, {run}",
                                mode="lines+markers", line=dict(color=color, width=3, dash=dash),
                                marker=dict(symbol="star" if group.startswith("★") else "circle",
                                            size=11 if group.startswith("★") else 7))
    fig.update_yaxes(range=[-0.02, 1.05])
    _count_axis(fig, df.night)
    fig = _style(fig, f"Priority (★) vs ordinary memories<br><sup>{name}</sup>", "night",
                 name, height=400)
    fig.update_layout(legend=dict(orientation="h", y=-0.3))
    return fig


def wrap_label(text: str, width: int = 12, lines: int = 2) -> str:
    """A node label in at most ``lines`` lines of ``width`` characters (words kept whole
    where they fit, "…" where the text is cut), joined with <br> for Plotly."""
    out, cur = [], ""
    for word in str(text).split():
        while len(word) > width:                  # a word longer than a line is split
            if cur:
                out.append(cur)
                cur = ""
            out.append(word[:width])
            word = word[width:]
        if cur and len(cur) + 1 + len(word) > width:
            out.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        out.append(cur)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:width - 1] + "…"
    return "<br>".join(out)


def hop_cosine(df: pd.DataFrame, refused: pd.DataFrame | None = None) -> go.Figure:
    """df: hop, label, cosine, support (hop 0 the start). Two lines per hop: the decoded
    code cosine and the support (share of stored links from the previous memory); a hop the
    chain refused (``refused``: no stored link, or a revisit) is drawn apart, hollow, grey."""
    where = ["top center" if i % 2 == 0 else "bottom center" for i in range(len(df))]
    fig = go.Figure()
    fig.add_scatter(x=df.hop, y=df.cosine, mode="lines+markers+text", name="code cosine",
                    text=[wrap_label(t) for t in df.label], textposition=where,
                    cliponaxis=False, hovertext=df.label, hoverinfo="text+y",
                    line=dict(color=METHOD_COLORS["hebbian"], width=3))
    if "support" in df:
        fig.add_scatter(x=df.hop[1:], y=df.support[1:], mode="lines+markers",
                        name="support (stored links)", hoverinfo="y",
                        line=dict(color=ACCENT, width=2, dash="dash"),
                        marker=dict(symbol="diamond", size=9))
    hops = df.hop.astype(float)
    if refused is not None and len(refused):
        r = refused.iloc[0]
        fig.add_scatter(x=[r.hop, r.hop], y=[r.cosine, r.support], mode="markers+text",
                        name="refused hop (not in the chain)",
                        text=[wrap_label(f"✗ {r.label}"), ""], textposition="top center",
                        cliponaxis=False, hoverinfo="y",
                        marker=dict(symbol=["circle-open", "diamond-open"], size=12,
                                    color="#888888", line=dict(width=2)))
        hops = pd.concat([hops, pd.Series([float(r.hop)])])
    fig.update_yaxes(range=[-0.02, 1.25])
    fig.update_xaxes(dtick=1, range=[hops.min() - 0.5, hops.max() + 0.5] if len(hops) else None)
    return _style(fig, "Each hop: code cosine to the stored target and support (stored "
                       "links)", "hop", "cosine / support")


def graph(nodes: list[str], edges: list[tuple[str, str]], path: list[str] | None = None,
          pos: dict | None = None) -> go.Figure:
    """Association graph: cue→target arrows, the chain just run highlighted. ``pos`` maps
    node -> (x, y) (see ``analysis.layered_layout``); default a circle. Labels are wrapped
    to two short lines and alternate above / below along a row, so neighbours never meet."""
    if pos is None:
        ang = np.linspace(0, 2 * np.pi, max(len(nodes), 1), endpoint=False)
        pos = {name: (np.cos(a), np.sin(a)) for name, a in zip(nodes, ang)}
    on_path = set(zip(path or [], (path or [])[1:]))
    fig = go.Figure()
    for a, b in edges:
        hot = (a, b) in on_path
        (x0, y0), (x1, y1) = pos[a], pos[b]
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowsize=1.2, standoff=9,
                           startstandoff=9, arrowwidth=3 if hot else 1.4,
                           arrowcolor=METHOD_COLORS["hebbian"] if hot else "#BBBBBB")
    hot_nodes = set(path or [])
    xs, ys = [pos[v][0] for v in nodes], [pos[v][1] for v in nodes]
    fig.add_scatter(x=xs, y=ys, mode="markers+text", text=[wrap_label(v) for v in nodes],
                    textposition=["top center" if round(x) % 2 == 0 else "bottom center"
                                  for x in xs], cliponaxis=False, textfont=dict(size=12),
                    marker=dict(size=14, color=[METHOD_COLORS["hebbian"] if v in hot_nodes
                                                else "#9DB4CC" for v in nodes]),
                    hovertext=nodes, hoverinfo="text", showlegend=False)
    if nodes:
        fig.update_xaxes(range=[min(xs) - 0.6, max(xs) + 0.6])
        fig.update_yaxes(range=[min(ys) - 0.7, max(ys) + 0.7])
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    rows = len({round(p[1], 3) for p in pos.values()}) if pos else 1
    return _style(fig, "Associations stored in W (cue → target)", "", "",
                  height=max(300, 110 * rows + 120))


def w_heatmap(w: np.ndarray, units: np.ndarray) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=w, x=units, y=units, colorscale="Viridis",
                               colorbar=dict(title="w")))
    fig.update_yaxes(autorange="reversed")
    return _style(fig, "W restricted to the units memories use", "cue unit j (pre)",
                  "target unit i (post)", height=520)


def raster(df: pd.DataFrame, code_dim: int) -> go.Figure:
    """df: memory (label), kind (cue/target), unit."""
    fig = go.Figure()
    for kind, color, sym in (("cue", METHOD_COLORS["hopfield"], "line-ns"),
                             ("target", METHOD_COLORS["hebbian"], "line-ns")):
        d = df[df.kind == kind]
        fig.add_scatter(x=d.unit, y=d.memory + f" · {kind}", mode="markers", name=kind + " code",
                        marker=dict(symbol=sym, size=14, line=dict(width=2, color=color)))
    fig.update_xaxes(range=[0, code_dim])
    return _style(fig, "k-WTA codes: the k active units of each memory", "unit index",
                  "", height=max(260, 34 * df.memory.nunique() * 2 + 120))


def beta_attention(df: pd.DataFrame, beta: float) -> go.Figure:
    """df: candidate, weight (final attention at the chosen β)."""
    fig = go.Figure(go.Bar(x=df.weight, y=df.candidate, orientation="h",
                           marker_color=METHOD_COLORS["hopfield"]))
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return _style(fig, f"Attention after settling at β = {beta:g}", "softmax weight", "",
                  height=max(280, 30 * len(df) + 120))


def beta_curve(df: pd.DataFrame) -> go.Figure:
    """df: beta, max_weight, effective_patterns."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(x=df.beta, y=df.max_weight, name="largest weight", mode="lines+markers",
                    line=dict(color=METHOD_COLORS["hopfield"], width=3))
    fig.add_scatter(x=df.beta, y=df.effective_patterns, name="patterns mixed (exp entropy)",
                    mode="lines+markers", line=dict(color=ACCENT, width=3, dash="dot"),
                    secondary_y=True)
    betas = list(df.beta)
    step = max(1, -(-len(betas) // 5))             # at most 5 labels: they stay horizontal
    ticks = betas[::step]
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[f"{b:g}" for b in ticks],
                     tickangle=0)
    _style(fig, "Superposition (small β) vs one pattern (large β)", "β (log scale)",
           "largest attention weight", height=380)
    fig.update_layout(legend=dict(orientation="h", y=-0.4))
    fig.update_yaxes(title_text="largest attention weight", secondary_y=False, range=[0, 1.05])
    fig.update_yaxes(title_text="patterns mixed", secondary_y=True, showgrid=False)
    return fig


def method_lines(df: pd.DataFrame, x: str, y: str, title: str, xlabel: str, ylabel: str,
                 log_x: bool = False) -> go.Figure:
    fig = go.Figure()
    for method in df["method"].unique():
        d = df[df.method == method]
        fig.add_scatter(x=d[x], y=d[y], name=str(method), mode="lines+markers",
                        line=dict(color=METHOD_COLORS.get(str(method),
                                                  EXTRA_COLORS.get(str(method), ACCENT)),
                                  width=3))
    if log_x:
        fig.update_xaxes(type="log", dtick=1)
    return _style(fig, title, xlabel, ylabel)


def tradeoff(df: pd.DataFrame, thresholds: dict[str, float]) -> go.Figure:
    """df: method, threshold, right, wrong, unheld_abstained (lab.analysis.tradeoff) -> one
    panel per method: paraphrases answered right (solid) and wrong (dotted), unheld
    questions abstained on (dashed), the method's threshold now as a vertical line."""
    methods = [m for m in METHOD_COLORS if m in set(df.method)]
    fig = make_subplots(rows=1, cols=len(methods), subplot_titles=methods, shared_yaxes=True,
                        horizontal_spacing=0.05)
    lines = (("right", "paraphrases answered right", "solid"),
             ("wrong", "paraphrases answered wrong", "dot"),
             ("unheld_abstained", "unheld questions: no answer", "dash"))
    for i, method in enumerate(methods, start=1):
        d = df[(df.method == method) & (df.threshold >= 0)].sort_values("threshold")
        color = METHOD_COLORS[method]
        for col, name, dash in lines:
            fig.add_scatter(x=d.threshold, y=d[col], mode="lines", name=name,
                            legendgroup=name, showlegend=i == 1,
                            line=dict(color=color if col != "unheld_abstained" else "#555555",
                                      width=3 if col != "wrong" else 2, dash=dash),
                            hovertemplate=f"threshold %{{x:.2f}}<br>{name}: %{{y:.0%}}"
                                          "<extra>" + method + "</extra>", row=1, col=i)
        t = thresholds.get(method)
        if t is not None and t >= 0:
            fig.add_vline(x=t, line=dict(color="#E45756", width=2), row=1, col=i)
    fig = _style(fig, "When to answer: what each threshold trades (red: now)", "", "",
                 height=330)
    for i in range(1, len(methods) + 1):
        fig.update_xaxes(title_text="threshold", range=[0, 1], row=1, col=i)
    fig.update_yaxes(title_text="share of questions", tickformat=".0%", range=[0, 1.02],
                     row=1, col=1)
    fig.update_layout(legend=dict(orientation="h", y=-0.3))
    return fig
