"""NuoNuo Lab UI helpers (Streamlit pages stay thin; the logic lives here).

Pure modules (no Streamlit import): ``io`` (bulk import parsing), ``workspaces`` (save/open by
name), ``demos`` (demo sets in ``assets/``), ``analysis`` (sweeps, chains, β attention),
``nights`` (the day/night stepper), ``charts`` (Plotly figures with one colour per method).
Streamlit modules: ``state`` (per-session workspace, shared model) and ``ui`` (page frame,
sidebar, chart + CSV download). ``nuonuo_core`` never imports ``lab``.
"""
