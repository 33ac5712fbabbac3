import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { configFor } from "../../src/cli/common.ts";
import { loadConfig } from "../../src/config.ts";
import { clientOptionsFromConfig } from "../../src/rpc/client.ts";

const dataRoot = () => mkdtempSync(join(tmpdir(), "opts-"));

test("when trustRemoteCode is not set then the sidecar gets no --trust-remote-code", () => {
  const cfg = loadConfig({ profile: "default", env: {}, flags: { dataRoot: dataRoot() } as never });
  assert.equal(cfg.model.trustRemoteCode, undefined);
  assert.deepEqual(clientOptionsFromConfig(cfg).extraArgs, []);
});

test("when model.trustRemoteCode is true then the sidecar is started with --trust-remote-code", () => {
  const cfg = loadConfig({ profile: "default", env: {}, flags: { dataRoot: dataRoot(), model: { trustRemoteCode: true } } as never });
  assert.deepEqual(clientOptionsFromConfig(cfg).extraArgs, ["--trust-remote-code"]);
});

test("the global --trust-remote-code flag sets model.trustRemoteCode", async () => {
  const program = new Command("sempress").option("--data-root <dir>").option("--trust-remote-code").exitOverride();
  let seen: boolean | undefined;
  program.command("probe").action((_o: unknown, cmd: Command) => {
    seen = configFor(cmd).model.trustRemoteCode;
  });
  await program.parseAsync(["node", "sempress", "--data-root", dataRoot(), "--trust-remote-code", "probe"]);
  assert.equal(seen, true);
});
