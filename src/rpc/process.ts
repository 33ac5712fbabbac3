/**
 * The sidecar child process: a private loopback endpoint, spawning with an allow-listed environment
 * (no API keys, see childEnv.ts) and stderr relayed into the pino log, and a process-wide guard that
 * kills every live child on exit, SIGINT and SIGTERM (no orphans).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { log, scrubSecrets } from "../log.ts";
import { sidecarEnv } from "./childEnv.ts";

/** Repository root (the sidecar runs with it as cwd, py-sidecar/ on PYTHONPATH). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface PrivateEndpoint {
  endpoint: string;
  /** The 0700 directory holding the ipc socket (ipc only); removed by `dispose`. */
  dir: string | null;
  dispose(): void;
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** `ipc://` in a fresh mkdtemp dir with mode 0700, or `tcp://127.0.0.1:<free port>`. */
export async function privateEndpoint(transport: "ipc" | "tcp", name = "sidecar"): Promise<PrivateEndpoint> {
  if (transport === "tcp") {
    return { endpoint: `tcp://127.0.0.1:${await freeLoopbackPort()}`, dir: null, dispose() {} };
  }
  const dir = mkdtempSync(join(tmpdir(), "sempress-"));
  chmodSync(dir, 0o700);
  return {
    endpoint: `ipc://${join(dir, `${name}.sock`)}`,
    dir,
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SpawnedSidecar {
  child: ChildProcess;
  /** Last stderr lines, oldest first (for error messages when it dies). */
  tail: string[];
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const TAIL_LINES = 30;
/** The sidecar's log format: `<iso time> LEVEL [request id] logger: message`. */
const SIDECAR_LINE = /^\S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) \[([^\]]*)\] /;
const LEVELS: Record<string, "debug" | "info" | "warn" | "error"> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warn",
  ERROR: "error",
  CRITICAL: "error",
};

export function spawnSidecar(opts: {
  python: string;
  model: string;
  endpoint: string;
  extraArgs?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}): SpawnedSidecar {
  const cwd = opts.cwd ?? REPO_ROOT;
  const base = opts.env ?? process.env;
  const pyPath = [join(REPO_ROOT, "py-sidecar"), base.PYTHONPATH].filter(Boolean).join(delimiter);
  const args = ["-m", "sempress_sidecar", "--model", opts.model, "--endpoint", opts.endpoint, ...(opts.extraArgs ?? [])];
  const child = spawn(opts.python, args, {
    cwd,
    env: { ...sidecarEnv(base), PYTHONPATH: pyPath, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail: string[] = [];
  const relay = (stream: NodeJS.ReadableStream | null, fallback: "info" | "debug") => {
    if (!stream) return;
    createInterface({ input: stream }).on("line", (raw) => {
      const line = scrubSecrets(raw);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      const m = SIDECAR_LINE.exec(line);
      const level = m ? (LEVELS[m[1]] ?? fallback) : fallback;
      log()[level]({ sidecar: line, rid: m && m[2] !== "-" ? m[2] : undefined, sidecar_pid: child.pid });
    });
  };
  relay(child.stderr, "info");
  relay(child.stdout, "debug");
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once("exit", (code, signal) => res({ code, signal }));
    child.once("error", (e) => {
      tail.push(`spawn failed: ${e.message}`);
      res({ code: null, signal: null });
    });
  });
  guard(child);
  exited.then(() => LIVE.delete(child));
  return { child, tail, exited };
}

// ---------------------------------------------------------------- no orphans

const LIVE = new Set<ChildProcess>();
const CLEANUPS = new Set<() => void>();
let installed = false;

/** Registers a cleanup (e.g. removing the private socket dir) run at process exit or on a signal. */
export function onProcessExit(fn: () => void): () => void {
  install();
  CLEANUPS.add(fn);
  return () => CLEANUPS.delete(fn);
}

function killAll(): void {
  for (const c of LIVE) {
    try {
      c.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
  LIVE.clear();
  for (const fn of CLEANUPS) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
  CLEANUPS.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAll);
  for (const [sig, num] of [
    ["SIGINT", 2],
    ["SIGTERM", 15],
  ] as const) {
    const handler = () => {
      killAll();
      // Only decide the exit when nobody else handles the signal (a runner may want to finish writing).
      if (process.listenerCount(sig) <= 1) process.exit(128 + num);
    };
    process.on(sig, handler);
  }
}

function guard(child: ChildProcess): void {
  install();
  LIVE.add(child);
}
