import streamlit as st

from lab.sweep import findings, view
from lab.workspace import frame

frame.page("📈 Findings",
           "Four questions about where this architecture earns its place, each against a "
           "plain baseline in the same records, over five seeds. Every headline below is "
           "computed from the committed result files (docs/results/), and every chart shows "
           "the mean with its 95 % confidence interval; pick a panel to see the others.",
           r"\bar{x} \pm t_{0.975,\,n-1}\,\frac{s}{\sqrt{n}}")
for i, finding in enumerate(findings.FINDINGS, start=1):
    st.divider()
    view.finding_panel(finding, i)
st.caption("Rerun them all with `make results-data` (about two hours on 2 cores), then "
           "`make results` renders docs/results.md from the same files.")
