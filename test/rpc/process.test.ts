import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { privateEndpoint } from "../../src/rpc/process.ts";
import { alive, gone } from "../fixtures/pids.ts";

const FAKE = resolve("test/fixtures/fake-sidecar.sh");
const HOLDER = resolve("test/fixtures/sidecar-holder.ts");
chmodSync(FAKE, 0o755); // in case a checkout lost the executable bit

/** Runs the holder, returns its first line (child pid, endpoint) and a promise of its exit code. */
async function runHolder(mode: "wait" | "exit") {
  const p = spawn(process.execPath, ["--import", "tsx", HOLDER, FAKE, mode], { stdio: ["ignore", "pipe", "inherit"] });
  const exit = new Promise<number | null>((r) => p.once("exit", (code) => r(code)));
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: p.stdout! }).once("line", res);
    p.once("exit", () => rej(new Error("holder exited before printing")));
  });
  const [pid, endpoint] = line.split(" ");
  return { holder: p, pid: Number(pid), endpoint, exit };
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  test(`${sig} to the parent kills the sidecar child and removes its socket dir (no orphans)`, async () => {
    const { holder, pid, endpoint, exit } = await runHolder("wait");
    assert.ok(alive(pid), "child started");
    const dir = dirname(endpoint.slice("ipc://".length));
    assert.ok(existsSync(dir));
    holder.kill(sig);
    assert.equal(await exit, sig === "SIGINT" ? 130 : 143);
    assert.ok(await gone(pid), `child ${pid} still alive after ${sig}`);
    assert.ok(!existsSync(dir), "socket dir removed");
  });
}

test("a parent that exits normally takes the sidecar child with it", async () => {
  const { pid, exit } = await runHolder("exit");
  assert.equal(await exit, 0);
  assert.ok(await gone(pid), `child ${pid} still alive after parent exit`);
});

test("private ipc endpoints are in fresh 0700 directories; tcp endpoints are on 127.0.0.1", async () => {
  const a = await privateEndpoint("ipc");
  const b = await privateEndpoint("ipc");
  try {
    assert.notEqual(a.dir, b.dir);
    assert.equal(statSync(a.dir!).mode & 0o777, 0o700);
    assert.match(a.endpoint, /^ipc:\/\/\/.+\/sidecar\.sock$/);
  } finally {
    a.dispose();
    b.dispose();
  }
  assert.ok(!existsSync(a.dir!));
  const t = await privateEndpoint("tcp");
  assert.match(t.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
});
