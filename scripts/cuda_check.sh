#!/usr/bin/env bash
# CUDA check for a GPU machine (< 4 min): the CUDA tests, then a small speed benchmark on
# cuda (20K memories, clustered and random). Needs python3 with torch, numpy and safetensors;
# not our venv, not faiss, streamlit or plotly. Output goes to $OUT (if set) and stdout.
#   usage: bash scripts/cuda_check.sh
set -u
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-}"
PY="${PYTHON:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
log() { if [ -n "$OUT_DIR" ]; then tee -a "$OUT_DIR/cuda_check.txt"; else cat; fi; }
[ -n "$OUT_DIR" ] && mkdir -p "$OUT_DIR"
{
  echo "== $(date -u) $(hostname)"
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>&1 || true
  "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
} 2>&1 | log
status=0
if "$PY" -c "import pytest" 2>/dev/null; then
  timeout 150 "$PY" -m pytest -q -rs -p no:cacheprovider tests/test_core_cuda.py 2>&1 | log
  status=${PIPESTATUS[0]}
else  # no pytest there: call the plain test functions
  timeout 150 "$PY" - <<'PYEOF' 2>&1 | log
import sys, traceback
sys.path[:0] = ["tests", "."]
import torch
import test_core_cuda as t
if not torch.cuda.is_available():
    sys.exit("no CUDA device: nothing checked")
failed = 0
for name in sorted(n for n in dir(t) if n.startswith("test_") and "cuda" in n):
    try:
        getattr(t, name)()
        print("PASS", name)
    except Exception:
        failed += 1
        print("FAIL", name)
        traceback.print_exc()
sys.exit(1 if failed else 0)
PYEOF
  status=${PIPESTATUS[0]}
fi
echo "== cuda tests exit status: $status" | log
json="${OUT_DIR:-/tmp}/cuda_speed.json"
timeout 120 "$PY" -m nuonuo_core.bench speed --sizes 20000 --queries 100 --device cuda \
  --out "$json" 2>&1 | log
echo "== speed exit status: ${PIPESTATUS[0]} (records in $json)" | log
exit "$status"
