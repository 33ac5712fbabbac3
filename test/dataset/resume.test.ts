/**
 * Crash and resume through the real CLI in a child process: the build is killed (SIGKILL) while it
 * waits on the validation batch; a plain rerun refuses to pay twice; a rerun with --resume waits on
 * the recorded batch. The server sees exactly one submission per batch part, and the outputs are
 * byte-identical to an uninterrupted build.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fakeModel } from "../peers/fakeModel.ts";
import { startOpenAIServer, type OpenAIServer } from "../peers/openaiServer.ts";
import { removeRoot, sameOutput, tempRoot, testConfigObject, TEST_KEY } from "./helpers.ts";

const roots: string[] = [];
after(() => roots.forEach(removeRoot));

function cli(root: string, server: OpenAIServer, extra: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const cfgFile = join(root, "config.json");
  writeFileSync(cfgFile, JSON.stringify(testConfigObject(root, server.baseURL)));
  const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: TEST_KEY, SEMPRESS_NO_BAR: "1" };
  delete env.OPENAI_BASE_URL;
  delete env.SEMPRESS_DATA_ROOT;
  const child = spawn(process.execPath, ["bin/sempress.mjs", "--config", cfgFile, "dataset", "build", "--p0-probe", "synthetic", ...extra], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdout!.on("data", () => undefined);
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
  return { child, done };
}

function parts(s: OpenAIServer): string[] {
  return s.submissions.map((x) => x.metadata.sempress_part).sort();
}

test("a build killed while waiting on a batch resumes without resubmitting and ends byte-identical", async () => {
  // Uninterrupted reference build.
  const refServer = await startOpenAIServer({ responder: fakeModel });
  const refRoot = tempRoot("ref");
  roots.push(refRoot);
  try {
    const ref = cli(refRoot, refServer, []);
    const r = await ref.done;
    assert.equal(r.code, 0, r.stderr.slice(-2000));
  } finally {
    await refServer.close();
  }

  const srv = await startOpenAIServer({ responder: fakeModel, behaviour: (_i, _l, meta) => ({ hold: meta.sempress_part?.startsWith("validate.") }) });
  const root = tempRoot("crash");
  roots.push(root);
  try {
    const first = cli(root, srv, []);
    await srv.waitForPolls("validate.p0", 2);
    first.child.kill("SIGKILL");
    await first.done;
    const ledger = JSON.parse(readFileSync(join(root, "data/logs/batches.json"), "utf8")) as { batches: Record<string, { batch_id: string; status: string }> };
    assert.ok(ledger.batches["validate.p0"].batch_id, "the batch id was on disk before waiting");
    assert.equal(ledger.batches["validate.p0"].status, "validating");
    const steps = JSON.parse(readFileSync(join(root, "data/logs/steps.json"), "utf8")) as { steps: Record<string, unknown> };
    assert.deepEqual(Object.keys(steps.steps), ["collect", "gaps", "generate", "ingest", "filter"]);

    // A plain rerun would pay twice: it refuses, and sends nothing.
    const before = srv.log.length;
    const plain = await cli(root, srv, []).done;
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /batch_in_flight/);
    assert.equal(srv.log.length, before);

    srv.release();
    const resumed = await cli(root, srv, ["--resume"]).done;
    assert.equal(resumed.code, 0, resumed.stderr.slice(-2000));
    assert.deepEqual(parts(srv), ["generate.p0", "validate.p0"], "one submission per batch part");
    assert.equal(srv.uploads, 2);
    for (const f of ["data/validated/prompts.jsonl", "data/validated/report.json"]) {
      assert.ok(sameOutput(root, refRoot, f), `${f} differs from the uninterrupted build`);
    }
    // The key never reached a log or output file.
    for (const f of ["data/logs/batches.json", "data/logs/steps.json", "data/logs/requests_validate.p0.jsonl", "data/logs/responses_validate.p0.jsonl"]) {
      assert.ok(!readFileSync(join(root, f), "utf8").includes(TEST_KEY), f);
    }
    assert.ok(!resumed.stderr.includes(TEST_KEY));
  } finally {
    await srv.close();
  }
});
