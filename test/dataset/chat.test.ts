/**
 * The dataset build through `--llm chat` against a local Chat Completions server (real HTTP, real
 * SDK): injected 429s with Retry-After, 500s, slow replies, prose and dropped connections; a server
 * without JSON mode; what report.json records about the endpoint.
 */
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { buildDataset } from "../../src/dataset/build.ts";
import { STRICT_PREFIX } from "../../src/dataset/batch/request.ts";
import { syntheticProbe } from "../../src/dataset/probe.ts";
import { startChatServer, type ChatServer } from "../peers/chatServer.ts";
import { checkOutputs } from "./invariants.ts";
import { scratchRoots, TEST_KEY, withKey } from "./helpers.ts";
import { answerCounts, chatConfig, journals, MODEL, spreadFaults } from "./llm/chatHelpers.ts";

process.env.SEMPRESS_NO_BAR = "1";
const root = scratchRoots();

async function withServer<T>(s: ChatServer, fn: (s: ChatServer) => Promise<T>): Promise<T> {
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

test("when the server throws every kind of fault then the build completes and every request is answered and recorded once", async () => {
  await withServer(await startChatServer({ fault: spreadFaults }), async (srv) => {
    const r = root("chat-faults");
    await buildDataset(chatConfig(r, srv.baseURL), { probe: syntheticProbe(5) });
    const { prompts } = checkOutputs(r);
    assert.ok(prompts.length > 0);

    const outcomes = new Map<string, number>();
    for (const q of srv.requests) outcomes.set(q.outcome, (outcomes.get(q.outcome) ?? 0) + 1);
    for (const o of ["429", "500", "slow", "text", "drop"]) assert.ok((outcomes.get(o) ?? 0) > 0, `no ${o} was injected: ${JSON.stringify([...outcomes])}`);

    // The server answered each id once: nothing with an answer was asked again.
    const answered = srv.answeredIds().filter((id) => id !== "preflight");
    assert.equal(new Set(answered).size, answered.length, "an answered request was sent again");
    // ... and each of those answers is in a journal exactly once.
    const recorded = answerCounts(r);
    assert.deepEqual([...recorded.keys()].sort(), [...new Set(answered)].sort());
    assert.ok([...recorded.values()].every((n) => n === 1));
    // Every request that went out is on disk as a request line (attempts included).
    const requestLines = [...journals(r).values()].flat().filter((l) => l.t === "request").length;
    assert.equal(requestLines, srv.requests.length);

    // Prose answers were re-asked once with the strict prefix, under the #retry id.
    const prose = srv.requests.filter((q) => q.outcome === "text" && !q.customId.endsWith("#retry")).map((q) => q.customId);
    assert.ok(prose.length > 0);
    for (const id of prose) assert.ok(recorded.has(`${id}#retry`), `${id}: prose reply not re-asked`);
    const retryLines = [...journals(r).values()].flat().filter((l) => l.t === "request" && l.id.endsWith("#retry"));
    assert.ok(retryLines.every((l) => l.t === "request" && JSON.stringify(l.body).includes(JSON.stringify(STRICT_PREFIX).slice(1, 30))));

    // Retry-After: the same request waited its second, and nobody else was sent in the meantime.
    for (const q of srv.requests.filter((x) => x.outcome === "429")) {
      const next = srv.requests.find((x) => x.customId === q.customId && x.at > q.at)!;
      assert.ok(next.at - q.at >= 1000 - 15, `${q.customId} retried ${next.at - q.at} ms after a Retry-After of 1 s`);
      const meanwhile = srv.requests.filter((x) => x.at > q.at + 100 && x.at < q.at + 900);
      assert.deepEqual(meanwhile.map((x) => x.customId), [], "requests sent while the server asked to wait");
    }
  });
});

test("when the server has no JSON mode and wants max_completion_tokens then the build adapts once and completes", async () => {
  await withServer(await startChatServer({ jsonMode: false, maxTokensParam: "max_completion_tokens", fault: (c) => (c.seen === 0 && c.n % 9 === 4 ? { kind: "text" } : null) }), async (srv) => {
    const r = root("chat-nojson");
    await buildDataset(chatConfig(r, srv.baseURL), { probe: syntheticProbe(5) });
    checkOutputs(r);
    const rejected = srv.requests.filter((q) => q.outcome === "400");
    assert.deepEqual(rejected.map((q) => q.customId), ["preflight", "preflight"], "one rejection per parameter, both in the preflight");
    const later = srv.requests.slice(2);
    assert.ok(later.every((q) => !q.responseFormat && q.maxTokensParam === "max_completion_tokens"));
    assert.ok(later.some((q) => q.outcome === "text") && later.some((q) => q.customId.endsWith("#retry")), "prose replies were re-asked");
  });
});

test("when a build ran through a chat endpoint then report.json names the provider, the URL and both model names, and no file holds the key", async () => {
  await withServer(await startChatServer({ servedModel: "qwen2.5-7b-instruct-q4_k_m.gguf", apiKey: TEST_KEY }), async (srv) => {
    const r = root("chat-prov");
    await withKey(() => buildDataset(chatConfig(r, srv.baseURL), { probe: syntheticProbe(5) }));
    const report = JSON.parse(readFileSync(join(r, "data/validated/report.json"), "utf8"));
    assert.deepEqual(report.llm, {
      provider: "chat",
      model: MODEL,
      base_url: srv.baseURL,
      server_model: "qwen2.5-7b-instruct-q4_k_m.gguf",
      replay_dir: null,
      demo: false,
      validation_responder: null,
    });
    for (const f of readdirSync(join(r, "data/logs"))) {
      if (f.endsWith("json") || f.endsWith("jsonl")) assert.ok(!readFileSync(join(r, "data/logs", f), "utf8").includes(TEST_KEY), `${f} holds the key`);
    }
    const prompts = readFileSync(join(r, "data/validated/prompts.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(prompts.some((p) => p.source === "llm"), "generated prompts are labelled as LLM output");
  });
});
