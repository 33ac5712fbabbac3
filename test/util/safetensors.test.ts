import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asFloat32, decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from "../../src/util/safetensors.ts";
import { needVenv } from "../fixtures/requirements.ts";

const PY = ".venv/bin/python";

function sample() {
  return {
    hidden: { dtype: "F32" as const, shape: [2, 3], data: new Float32Array([1, -2.5, 3, 0.125, 1e-8, -0]) },
    ids: { dtype: "I64" as const, shape: [3], data: new BigInt64Array([5n, 151643n, -1n]) },
    small: { dtype: "I32" as const, shape: [1, 1], data: new Int32Array([7]) },
    half: { dtype: "BF16" as const, shape: [2], data: new Uint16Array([0x3f80, 0xc000]) },
    flag: { dtype: "U8" as const, shape: [3], data: new Uint8Array([1, 0, 1]) },
  };
}

test("when tensors are encoded then decoding gives the same values, shapes and metadata", () => {
  const bytes = encodeSafetensors(sample(), { prompt_id: "facts_paris_x", generated: "[1,2]" });
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { generated: "[1,2]", prompt_id: "facts_paris_x" });
  assert.deepEqual(Array.from(back.tensors.hidden.data as Float32Array), [1, -2.5, 3, 0.125, Math.fround(1e-8), -0]);
  assert.deepEqual(back.tensors.hidden.shape, [2, 3]);
  assert.deepEqual(Array.from(back.tensors.ids.data as BigInt64Array), [5n, 151643n, -1n]);
  assert.deepEqual(Array.from(asFloat32(back.tensors.half)), [1, -2]);
  assert.deepEqual(Array.from(back.tensors.flag.data as Uint8Array), [1, 0, 1]);
});

test("when the same content is encoded twice in any key order then the bytes are identical", () => {
  const s = sample();
  const a = encodeSafetensors(s, { b: "2", a: "1" });
  const rev = Object.fromEntries(Object.entries(s).reverse());
  const b = encodeSafetensors(rev, { a: "1", b: "2" });
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
  assert.equal(Number(new DataView(a.buffer).getBigUint64(0, true)) % 8, 0);
});

test("when a shape does not match the data then encoding refuses", () => {
  assert.throws(() => encodeSafetensors({ x: { dtype: "F32", shape: [4], data: new Float32Array(3) } }), /needs 16 bytes/);
});

test("when a file is truncated then decoding names it", () => {
  const bytes = encodeSafetensors(sample());
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 3), "t.safetensors"), /t\.safetensors.*data_offsets/);
});

test("when TS writes a file then Python's safetensors reads it, and TS reads Python's file", { skip: needVenv() }, () => {
  const dir = mkdtempSync(join(tmpdir(), "st-"));
  const f = join(dir, "ts.safetensors");
  writeSafetensors(f, sample(), { prompt_id: "p1", condition: "negative" });
  const script = `
import json, sys
from safetensors import safe_open
from safetensors.numpy import save_file
import numpy as np
out = {}
with safe_open(sys.argv[1], "np") as f:
    out["meta"] = f.metadata()
    for k in f.keys():
        if k == "half":
            continue
        t = f.get_tensor(k)
        out[k] = [str(t.dtype), list(t.shape), [float(x) if t.dtype.kind == "f" else int(x) for x in t.reshape(-1)]]
import torch
from safetensors.torch import load_file
out["half"] = load_file(sys.argv[1])["half"].float().tolist()
save_file({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([9, -4], dtype=np.int64)}, sys.argv[2], metadata={"k": "v"})
print(json.dumps(out))
`;
  const py = join(dir, "py.safetensors");
  const out = JSON.parse(execFileSync(PY, ["-c", script, f, py], { encoding: "utf8" }));
  assert.deepEqual(out.meta, { condition: "negative", prompt_id: "p1" });
  assert.deepEqual(out.hidden[1], [2, 3]);
  assert.equal(out.hidden[0], "float32");
  assert.equal(out.hidden[2][1], -2.5);
  assert.deepEqual(out.ids, ["int64", [3], [5, 151643, -1]]);
  assert.deepEqual(out.small, ["int32", [1, 1], [7]]);
  assert.deepEqual(out.flag, ["uint8", [3], [1, 0, 1]]);
  assert.deepEqual(out.half, [1, -2]);
  const back = readSafetensors(py);
  assert.deepEqual(back.metadata, { k: "v" });
  assert.deepEqual(Array.from(back.tensors.a.data as Float32Array), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(back.tensors.b.data as BigInt64Array), [9n, -4n]);
  assert.ok(readFileSync(f).length > 8);
});
