"""NuoNuo Lab entry point: `streamlit run app.py`.

The navigation is the one explicit list below, in sidebar order (as in Streamlit's own hello
app); a new page is a file in pages/ plus its line here (tests/test_app_pages.py checks that
every file in pages/ is listed once).
"""
import logging

import streamlit as st

from lab.server import startup

PAGES = [
    st.Page("pages/1_Home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/2_Memories.py", title="Memories", icon="🗂️"),
    st.Page("pages/3_Recall_and_noise.py", title="Recall & noise", icon="🎯"),
    st.Page("pages/4_Consolidation_nights.py", title="Consolidation nights", icon="🌙"),
    st.Page("pages/5_Multi-hop_chains.py", title="Multi-hop chains", icon="🔗"),
    st.Page("pages/6_Inside_the_network.py", title="Inside the network", icon="🔬"),
    st.Page("pages/7_Guided_tour.py", title="Guided tour", icon="🧭"),
    st.Page("pages/11_Conversation_memory.py", title="Conversation memory", icon="💬"),
    st.Page("pages/8_Benchmark.py", title="Benchmark", icon="📊"),
    st.Page("pages/9_Pattern_completion.py", title="Pattern completion", icon="🧩"),
    st.Page("pages/10_Sweep.py", title="Sweep", icon="🧪"),
    st.Page("pages/12_Findings.py", title="Findings", icon="📈"),
]

st.set_page_config(page_title="NuoNuo Lab", page_icon="🧠", layout="wide")
startup.start()   # once per process: one thread per kernel, the janitor (lab/server/startup.py)
try:
    st.navigation(PAGES).run()
except Exception:   # last line of defence: the page says so, the traceback goes to the log
    logging.getLogger("nuonuo.lab").exception("unhandled error on a page")
    st.error("Something went wrong on this page (the details are in the server log). "
             "Your workspace is autosaved; try again or open another page.")
