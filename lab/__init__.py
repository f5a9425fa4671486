"""NuoNuo Lab UI helpers (Streamlit pages stay thin; the logic lives here).

Pure modules (no Streamlit import): ``io`` (bulk import parsing, CSV/JSON export),
``limits`` (ranges of every visitor value), ``workspaces`` (owner-private save/open by name,
autosave slot, rebuild), ``demos`` (demo sets in ``assets/``), ``analysis`` (sweeps,
chains, β attention), ``nights`` (the day/night stepper), ``charts`` (Plotly figures with one colour per method).
Streamlit modules: ``state`` (owner key, per-session workspace, autosave, shared model), ``ui``
(page frame, messages, confirmations, chart + CSV download), ``sidebar`` (workspace panel) and
``controls`` (the Recall page's settings and rebuild). ``nuonuo_core`` never imports ``lab``.
"""
