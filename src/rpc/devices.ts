/**
 * Which sidecars to start (config sidecar.devices / sidecar.sidecars, flags `--devices`, `--sidecars`).
 *
 *   (unset)            one sidecar that sees every visible device: a model bigger than one GPU spreads over
 *                      all of them (accelerate's device_map); the behaviour before several sidecars existed
 *   cpu                one CPU sidecar
 *   auto               one sidecar per visible GPU (CUDA_VISIBLE_DEVICES when set, else `nvidia-smi -L`); cpu when none
 *   cuda:0,cuda:1      one sidecar per listed entry; an entry `cuda:0+cuda:1` is one sidecar over both GPUs
 *
 * `--sidecars N` starts N sidecars per entry (N CPU sidecars with `cpu`; several small models per GPU).
 * Each entry reaches the sidecar as `--device` (py-sidecar/sempress_sidecar/devices.py pins the process
 * through CUDA_VISIBLE_DEVICES before CUDA starts; GPU indices count the GPUs this process sees).
 */
import { execFileSync } from "node:child_process";
import type { Config } from "../config.ts";
import { ConfigError } from "../errors.ts";

const ENTRY = /^(cpu|cuda:\d+(\+cuda:\d+)*)$/;

/** The GPUs this process may use: CUDA_VISIBLE_DEVICES when set, else the lines of `nvidia-smi -L` (0 without it). */
export function visibleGpuCount(env: NodeJS.ProcessEnv = process.env, smi = "nvidia-smi"): number {
  const cvd = env.CUDA_VISIBLE_DEVICES;
  if (cvd !== undefined) return cvd.split(",").filter((v) => v.trim() !== "" && v.trim() !== "-1").length;
  try {
    const out = execFileSync(smi, ["-L"], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] });
    return out.split("\n").filter((l) => l.startsWith("GPU ")).length;
  } catch {
    return 0;
  }
}

/**
 * One `--device` value per sidecar to start (null: no `--device`, the sidecar sees what the CLI sees).
 * `gpus` is asked only for `auto`.
 */
export function sidecarDevices(s: Pick<Config["sidecar"], "devices" | "sidecars">, gpus: () => number = visibleGpuCount): (string | null)[] {
  const per = s.sidecars;
  const spec = s.devices?.trim() ?? null;
  let entries: (string | null)[];
  if (spec === null || spec === "") entries = [null];
  else if (spec === "auto") {
    const n = gpus();
    entries = n > 0 ? Array.from({ length: n }, (_, i) => `cuda:${i}`) : ["cpu"];
  } else {
    const listed = spec.split(",").map((e) => e.trim());
    const bad = listed.find((e) => !ENTRY.test(e));
    if (bad !== undefined) throw new ConfigError(`--devices: "${bad}" is not cpu, cuda:N or cuda:N+cuda:M (in "${spec}"); or use auto`);
    const gpuList = listed.flatMap((e) => (e === "cpu" ? [] : e.split("+")));
    const twice = gpuList.find((g, i) => gpuList.indexOf(g) !== i);
    if (twice) throw new ConfigError(`--devices: ${twice} is named twice in "${spec}" (use --sidecars N for several sidecars per device)`);
    entries = listed;
  }
  return entries.flatMap((e) => Array.from({ length: per }, () => e));
}
