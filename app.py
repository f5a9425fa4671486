"""NuoNuo Lab entry point: `streamlit run app.py`.

Registers every `pages/<n>_<Name>.py` in number order (Home is 1); a page dropped into
pages/ later (e.g. 8_Benchmark.py) appears without editing this file.
"""
import logging
import re
from pathlib import Path

import streamlit as st

from lab.server import startup

ICONS = {"Home": "🏠", "Memories": "🗂️", "Recall and noise": "🎯", "Consolidation nights": "🌙",
         "Multi-hop chains": "🔗", "Inside the network": "🔬", "Guided tour": "🧭",
         "Benchmark": "📊", "Pattern completion": "🧩", "Sweep": "🧪"}

TITLES = {"Recall and noise": "Recall & noise"}

st.set_page_config(page_title="NuoNuo Lab", page_icon="🧠", layout="wide")
startup.start()   # once per process: one thread per kernel, the janitor (lab/server/startup.py)
found = []
for path in (Path(__file__).parent / "pages").glob("*.py"):
    m = re.match(r"^(\d+)_(.+)\.py$", path.name)
    if m:
        title = m.group(2).replace("_", " ")
        found.append((int(m.group(1)), title, f"pages/{path.name}"))
pages = [st.Page(p, title=TITLES.get(t, t), icon=ICONS.get(t, "📄"), default=(n == 1))
         for n, t, p in sorted(found)]
try:
    st.navigation(pages).run()
except Exception:   # last line of defence: the page says so, the traceback goes to the log
    logging.getLogger("nuonuo.lab").exception("unhandled error on a page")
    st.error("Something went wrong on this page (the details are in the server log). "
             "Your workspace is autosaved; try again or open another page.")
