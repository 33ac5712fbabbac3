/**
 * Starts the configured sidecars (one per `--devices` entry, ../rpc/devices.ts) as one pool (./pool.ts)
 * and builds the matching tokenizer from their hello (the CLI's RunEnv). Every sidecar must serve the same
 * model with the same tokenizer, or nothing starts.
 */
import { createHash } from "node:crypto";
import type { Config } from "../config.ts";
import { SidecarError } from "../errors.ts";
import { log } from "../log.ts";
import { clientOptionsFromConfig, SidecarClient } from "../rpc/client.ts";
import { sidecarDevices } from "../rpc/devices.ts";
import type { HelloResult } from "../rpc/protocol.ts";
import { HfTokenizer } from "../tokenizer/hfTokenizer.ts";
import type { RunEnv } from "./env.ts";
import { SidecarPool } from "./pool.ts";

export interface ConnectOptions {
  /** Restarts each client may make in a row (SidecarClientOptions.maxRestarts; tests set 0). */
  maxRestarts?: number;
}

export async function connectRunEnv(cfg: Config, opts: ConnectOptions = {}): Promise<RunEnv & { pool: SidecarPool; close(): Promise<void> }> {
  const devices = sidecarDevices(cfg.sidecar);
  const base = clientOptionsFromConfig(cfg);
  const clients = devices.map(
    (d) => new SidecarClient({ ...base, extraArgs: [...(base.extraArgs ?? []), ...(d ? ["--device", d] : [])], maxRestarts: opts.maxRestarts }),
  );
  const started = await Promise.allSettled(clients.map((c) => c.start()));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    const hellos = started.map((s) => (s as PromiseFulfilledResult<HelloResult>).value);
    assertSameModel(hellos, devices);
    const pool = new SidecarPool(clients.map((sidecar, i) => ({ sidecar, device: devices[i] })), hellos[0]);
    if (clients.length > 1) log().info({ sidecars: clients.length, devices, pids: clients.map((c) => c.pid) }, "sidecar pool ready");
    return { sidecar: pool, hello: hellos[0], tokenizer: HfTokenizer.fromHello(hellos[0]), pool, close: () => pool.close() };
  } catch (e) {
    await Promise.all(clients.map((c) => c.close()));
    throw e;
  }
}

function assertSameModel(hellos: readonly HelloResult[], devices: readonly (string | null)[]): void {
  const key = (h: HelloResult) => `${h.model_id}|${h.n_layers}|${createHash("sha256").update(h.tokenizer_json).digest("hex")}`;
  const i = hellos.findIndex((h) => key(h) !== key(hellos[0]));
  if (i > 0) {
    throw new SidecarError(
      `sidecar ${i} (${devices[i] ?? "all devices"}) serves ${hellos[i].model_id}, sidecar 0 serves ${hellos[0].model_id} (or their tokenizers differ): every sidecar must load the same model`,
      "sidecar_pool_mismatch",
    );
  }
}
