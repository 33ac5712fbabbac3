/**
 * Provenance of a chat-built dataset downstream: run.json's identity (dataset_llm) and the report's
 * header name the provider, the model asked for, the model the server reported and the endpoint.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { buildDataset } from "../../../src/dataset/build.ts";
import { syntheticProbe } from "../../../src/dataset/probe.ts";
import { reportHeader } from "../../../src/report/header.ts";
import { headerFacts } from "../../../src/report/headerHtml.ts";
import type { RunData } from "../../../src/report/load.ts";
import { datasetFacts, runDefaults, runIdentity } from "../../../src/run/identity.ts";
import type { PromptRecord } from "../../../src/schemas.ts";
import { startChatServer } from "../../peers/chatServer.ts";
import { chatConfig, MODEL } from "./chatHelpers.ts";
import { scratchRoots } from "../helpers.ts";

process.env.SEMPRESS_NO_BAR = "1";
const root = scratchRoots();

function runData(manifestRaw: Record<string, unknown> | null, datasetReport: Record<string, unknown> | null, prompts: PromptRecord[]): RunData {
  return { manifestRaw, datasetReport, prompts, psem: [] } as unknown as RunData;
}

test("when the dataset came from a chat endpoint then run.json's identity and the report header say which model, where", async () => {
  const srv = await startChatServer({ servedModel: "llama-3.1-8b-instruct.Q4_K_M.gguf" });
  const r = root("chat-header");
  const cfg = chatConfig(r, srv.baseURL);
  try {
    await buildDataset(cfg, { probe: syntheticProbe(5) });
  } finally {
    await srv.close();
  }
  const promptsFile = join(r, "data/validated/prompts.jsonl");
  const prompts = readFileSync(promptsFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as PromptRecord);
  const identity = runIdentity(cfg, datasetFacts(promptsFile, prompts), "mock");
  const llm = { provider: "chat", model: MODEL, base_url: srv.baseURL, server_model: "llama-3.1-8b-instruct.Q4_K_M.gguf" };
  assert.equal(identity.llm_provider, "chat");
  assert.deepEqual(identity.dataset_llm, llm);

  const report = JSON.parse(readFileSync(join(r, "data/validated/report.json"), "utf8"));
  const run = { ...identity, config: cfg } as unknown as Record<string, unknown>;
  for (const [label, ds] of [["from report.json", report], ["from run.json alone", null]] as const) {
    const h = reportHeader(runData(run, ds, prompts));
    assert.equal(h.llm_provider, "chat", label);
    assert.deepEqual([h.llm_model, h.llm_server_model, h.llm_base_url], [MODEL, llm.server_model, srv.baseURL], label);
    assert.ok(!h.not_recorded.some((f) => f.includes("llm")), `${label}: ${h.not_recorded.join("; ")}`);
    const html = headerFacts(h);
    assert.match(html, /\(OpenAI-compatible chat endpoint\)/);
    assert.match(html, new RegExp(`<dd data-field="llm_model"><code>${MODEL}</code> \\(server reports <code>llama-3\\.1-8b-instruct\\.Q4_K_M\\.gguf</code>\\) at <code>${srv.baseURL.replace(/\./g, "\\.")}</code></dd>`));
  }

  // analyze takes the dataset provider from the run when not given.
  const manifest = join(r, "run.json");
  writeFileSync(manifest, JSON.stringify(run));
  assert.equal(runDefaults(manifest).llm, "chat");
});

test("when a chat build's report lacks the server's model id then the header lists it as not recorded", () => {
  const h = reportHeader(runData({ profile: "default" }, { llm: { provider: "chat", model: MODEL, base_url: "http://h/v1", server_model: null } }, []));
  assert.equal(h.llm_server_model, null);
  assert.ok(h.not_recorded.includes("data/validated/report.json → llm.server_model (the model id the chat endpoint reported)"));
});
