"""NuoNuo Lab: the Streamlit UI around the engine, grouped by feature.

Pages (``pages/``) stay thin: read widgets, call a helper here or the engine, draw. The lab
is in layers, lowest first; a module imports its own layer and the ones below, never above,
and never pages, app.py, scripts or tests (tests/test_import_contract.py enforces it and
docs/architecture.md draws it). "Pure" = no Streamlit import.

Layer 0, used by everything:
  ``limits``            the lab's ranges, derived from nuonuo_core.limits; one parser; the
                        workspace-file budget (pure)
  ``ui``                the bottom widgets: parameter help, inert user text, errors, two-step
                        confirmations, download buttons, charts with a CSV download
  ``charts``            Plotly figures of the memory pages; the lab's colour of every method,
                        model and arm (``SERIES_COLORS``) (pure)
  ``server/``           once per server process:
    ``server/startup``    thread limits for every kernel and the janitor's start
    ``server/janitor``    reaps closed sessions, keeps start-up objects out of the per-rerun
                          garbage collection, gives freed memory back

Layer 1, a visitor's workspace (``workspace/``):
  ``workspace/memory_rows``  memory rows in and out: bulk import of CSV / JSON / text with
                             per-row errors, CSV / JSON export, tables (pure)
  ``workspace/lookalikes``   warnings about memories the encoder cannot tell apart (pure)
  ``workspace/demos``        the demo sets shipped in ``assets/`` (pure)
  ``workspace/encoding``     the shared encoder with the demo texts embedded once (pure)
  ``workspace/files``        owner folders: save / open by name, autosave slot, upload, rebuild
                             (pure)
  ``workspace/uistate``      the page settings a reload brings back: a small, bounded,
                             validated JSON in the owner's folder (pure)
  ``workspace/state``        per-session state: owner key, the session's workspace, autosave,
                             the page settings, queued messages, the shared model
  ``workspace/sidebar``      the workspace sidebar (save, open, download, upload, new, share)
  ``workspace/controls``     live recall settings and rebuild, threshold sliders
  ``workspace/frame``        the page frame every page starts with, and adding memories

Layer 2, features (one or two pages each):
  ``analysis``          recall, noise, chains, W and β computations of pages 3, 5 and 6 (pure)
  ``nights/``           consolidation (page 4):
    ``nights/player``     the day/night player: two twins learn the same days, one replays
    ``nights/phase``      the sleep phase map over homeostasis × prune threshold
  ``patterns/``         pattern completion (page 9, tour step 4):
    ``patterns/completion``  stored sets, completion runs, capacity, sentences (pure)
    ``patterns/charts``      pixel images, step strips, energy, overlap (pure)
    ``patterns/canvas``      the drawing canvas (a Streamlit component, inline JS)
    ``patterns/view``        own patterns (draw / upload), the networks, the tour stop
  ``sweep/``            parameter sweeps and findings (pages 10 and 12):
    ``sweep/jobs``        grids from form text, background sweep jobs, the on-disk cache (pure)
    ``sweep/charts``      mean and 95 % CI over seeds as lines (a second parameter as shades of
                          the lab's colours) or a heatmap (pure)
    ``sweep/own``         recall with noise on the visitor's own memories, bounded (pure)
    ``sweep/saved``       the owner's last sweep in their folder, read back as hostile input
                          (pure)
    ``sweep/findings``    the four new findings: charts with CIs, headlines from records (pure)
    ``sweep/view``        restore, progress, results, own-memories and findings panels
  ``conversation/``     conversation memory (pages 8 and 11):
    ``conversation/benchmark``  LoCoMo retrieval benchmark: data folder or upload, run, tables
                                (pure)
    ``conversation/sources``    the example, a LoCoMo conversation or a visitor's chat (bounded
                                by the page's limits), their memories, sessions (pure)
    ``conversation/explain``    hits, channel parts, the top hit's story, settling frames,
                                recall@k with intervals against labelled questions (pure)
    ``conversation/charts``     channel bars per hit, recall@k beside the baseline (pure)
    ``conversation/view``       the page's panels: choose, build (progress), ask, answer,
                                recall

Layer 3:
  ``tour``              the guided tour's findings and the sentences computed from them (pure)

``nuonuo_core`` never imports ``lab``.
"""
