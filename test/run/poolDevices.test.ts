/** Which sidecars `--devices` / `--sidecars` start (src/rpc/devices.ts), and the flags' place in the config. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { configFor } from "../../src/cli/common.ts";
import { loadConfig, runConfigHash } from "../../src/config.ts";
import { ConfigError } from "../../src/errors.ts";
import { allowedInSidecar } from "../../src/rpc/childEnv.ts";
import { sidecarDevices, visibleGpuCount } from "../../src/rpc/devices.ts";

const two = () => 2;
const none = () => 0;

test("when no devices are given then one sidecar sees every device, and --sidecars N makes N of them", () => {
  assert.deepEqual(sidecarDevices({ devices: null, sidecars: 1 }, two), [null]);
  assert.deepEqual(sidecarDevices({ devices: "cpu", sidecars: 2 }, two), ["cpu", "cpu"]);
});

test("when devices are auto then there is one sidecar per visible GPU, or one CPU sidecar without GPUs", () => {
  assert.deepEqual(sidecarDevices({ devices: "auto", sidecars: 1 }, two), ["cuda:0", "cuda:1"]);
  assert.deepEqual(sidecarDevices({ devices: "auto", sidecars: 1 }, none), ["cpu"]);
  assert.deepEqual(sidecarDevices({ devices: "auto", sidecars: 2 }, two), ["cuda:0", "cuda:0", "cuda:1", "cuda:1"]);
});

test("when devices are listed then each entry is a sidecar, a+b entries spanning several GPUs", () => {
  assert.deepEqual(sidecarDevices({ devices: "cuda:0, cuda:1", sidecars: 1 }, none), ["cuda:0", "cuda:1"]);
  assert.deepEqual(sidecarDevices({ devices: "cuda:0+cuda:1,cuda:2+cuda:3", sidecars: 1 }, none), ["cuda:0+cuda:1", "cuda:2+cuda:3"]);
});

test("when a device entry is malformed or a GPU is named twice then one line says which", () => {
  assert.throws(() => sidecarDevices({ devices: "gpu0", sidecars: 1 }), (e: Error) => e instanceof ConfigError && /"gpu0" is not cpu, cuda:N/.test(e.message));
  assert.throws(() => sidecarDevices({ devices: "cuda:0,cuda:0+cuda:1", sidecars: 1 }), /cuda:0 is named twice/);
});

test("when CUDA_VISIBLE_DEVICES is set it is the GPU count; else nvidia-smi -L is asked, and no nvidia-smi means none", () => {
  assert.equal(visibleGpuCount({ CUDA_VISIBLE_DEVICES: "2,3" }), 2);
  assert.equal(visibleGpuCount({ CUDA_VISIBLE_DEVICES: "" }), 0);
  const dir = mkdtempSync(join(tmpdir(), "smi-"));
  const smi = join(dir, "nvidia-smi");
  writeFileSync(smi, '#!/bin/sh\n[ "$1" = "-L" ] || exit 9\necho "GPU 0: NVIDIA H200 (UUID: GPU-a)"\necho "GPU 1: NVIDIA H200 (UUID: GPU-b)"\n');
  chmodSync(smi, 0o755);
  assert.equal(visibleGpuCount({}, smi), 2);
  assert.equal(visibleGpuCount({}, join(dir, "absent")), 0);
});

test("when --devices and --sidecars are given then the config says so and the run's config hash does not change", () => {
  const program = new Command().option("--devices <list>").option("--sidecars <n>", "", Number).option("--profile <p>");
  const sub = program.command("x").action(() => {});
  program.parse(["node", "x", "--devices", "cpu", "--sidecars", "2", "x"]);
  const cfg = configFor(sub);
  assert.deepEqual([cfg.sidecar.devices, cfg.sidecar.sidecars], ["cpu", 2]);
  assert.equal(runConfigHash(cfg), runConfigHash(loadConfig({ profile: cfg.profile, env: {} })));
});

test("when a host keeps NVLink multicast off through NCCL_/NVSHMEM_ settings then every sidecar gets them", () => {
  for (const k of ["CUDA_VISIBLE_DEVICES", "NCCL_NVLS_ENABLE", "NVSHMEM_DISABLE_NVLS", "TORCH_SYMM_MEM_DISABLE_MULTICAST"]) assert.ok(allowedInSidecar(k), k);
});
