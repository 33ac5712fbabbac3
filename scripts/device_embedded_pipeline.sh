#!/usr/bin/env bash
# The embedded model's pipeline-equivalent (dataset from replay → run → analyze) on a CUDA machine that
# has Python with torch/transformers but no Node.js and no network. Expects, under /root/gg: the GGUF in
# parts p1..p5, node.xz (this project's Node binary, xz) and nm.tar.xz (a production node_modules);
# pyzmq and gguf wheels in .whl/. Prints per-stage wall times.
set -euo pipefail
cat /root/gg/p1 /root/gg/p2 /root/gg/p3 /root/gg/p4 /root/gg/p5 > /root/gemma-3-270m-q4_k_m.gguf
python3 - <<'PY'
import hashlib, lzma, tarfile, os, shutil
h = hashlib.sha256(open("/root/gemma-3-270m-q4_k_m.gguf", "rb").read()).hexdigest()
print("gguf sha256", h, "ok" if h == "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818" else "MISMATCH")
with lzma.open("/root/gg/node.xz") as src, open("/root/node", "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod("/root/node", 0o755)
with tarfile.open("/root/gg/nm.tar.xz", "r:xz") as t:
    t.extractall(".")
PY
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD/py-sidecar
export SEMPRESS_PYTHON=python3 SEMPRESS_MODEL=/root/gemma-3-270m-q4_k_m.gguf SEMPRESS_NO_BAR=1
/root/node --version
D=/tmp/dr; mkdir -p $D
t0=$(date +%s)
/root/node bin/sempress.mjs --data-root $D --log-level warn dataset build
t1=$(date +%s)
/root/node bin/sempress.mjs --data-root $D --log-level warn run --limit "${LIMIT:-30}"
t2=$(date +%s)
/root/node bin/sempress.mjs --data-root $D --log-level warn analyze
t3=$(date +%s)
echo "{\"dataset_s\": $((t1-t0)), \"run_s\": $((t2-t1)), \"analyze_s\": $((t3-t2))}"
head -c 600 $D/runs/run.json; echo
wc -l $D/data/validated/prompts.jsonl $D/runs/*.csv $D/runs/*.jsonl
ls $D/runs/mechanistic_trace | wc -l
head -3 $D/runs/psem.csv
