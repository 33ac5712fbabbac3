/**
 * Crash and resume of a `--llm chat` build through the real CLI in a child process: the build is
 * killed (SIGKILL) in the middle of the validation requests; `--resume` asks only what has no answer
 * on disk. Counted at the server by custom id and by content hash; the outputs are byte-identical to
 * an uninterrupted build.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { startChatServer, type ChatServer } from "../peers/chatServer.ts";
import { sameOutput, scratchRoots } from "./helpers.ts";
import { answerCounts, chatConfigObject, cli, journals } from "./llm/chatHelpers.ts";

const root = scratchRoots();

/** A server that, once `after` validation answers are out, holds every further reply until released. */
async function holdingServer(after: number): Promise<ChatServer & { held: () => number; release: () => void }> {
  let holding = true;
  const waiting: (() => void)[] = [];
  const answeredVal = () => srv.requests.filter((r) => r.customId.startsWith("val:") && r.outcome === "answered").length;
  const srv = await startChatServer({
    beforeReply: async (c) => {
      if (holding && c.customId.startsWith("val:") && answeredVal() >= after) await new Promise<void>((r) => waiting.push(r));
    },
  });
  return Object.assign(srv, {
    held: () => waiting.length,
    release: () => {
      holding = false;
      waiting.splice(0).forEach((r) => r());
    },
  });
}

test("when a chat build is killed mid-validation then --resume asks only what had no answer and ends byte-identical", async () => {
  const ref = await startChatServer();
  const refRoot = root("chat-ref");
  try {
    const r = await cli(refRoot, chatConfigObject(refRoot, ref.baseURL)).done;
    assert.equal(r.code, 0, r.stderr.slice(-2000));
  } finally {
    await ref.close();
  }

  const srv = await holdingServer(40);
  const r = root("chat-kill");
  const config = chatConfigObject(r, srv.baseURL);
  try {
    const first = cli(r, config);
    await srv.waitFor(() => srv.held() >= 4, 60_000);
    first.child.kill("SIGKILL");
    await first.done;
    const killedAt = Date.now();
    const before = answerCounts(r);
    const answeredBefore = [...before.keys()];
    assert.ok(answeredBefore.filter((id) => id.startsWith("val:")).length >= 40, "validation answers were on disk when killed");
    const hashesBefore = new Set(srv.requests.filter((q) => q.outcome === "answered" && before.has(q.customId)).map((q) => q.contentHash));
    srv.release();

    const resumed = await cli(r, config, ["--resume"]).done;
    assert.equal(resumed.code, 0, resumed.stderr.slice(-2000));
    const after = srv.requests.filter((q) => q.at >= killedAt);
    assert.ok(after.length > 0);
    assert.deepEqual(after.filter((q) => before.has(q.customId)).map((q) => q.customId), [], "a request with an answer on disk was sent again (by id)");
    assert.deepEqual(after.filter((q) => hashesBefore.has(q.contentHash)).map((q) => q.customId), [], "a request with an answer on disk was sent again (by content)");
    // The replies held at the kill never reached the client: those are the ones asked again.
    const again = new Set(after.filter((q) => q.customId !== "preflight").map((q) => q.customId));
    const asked = new Set(srv.requests.filter((q) => q.at < killedAt && q.customId !== "preflight").map((q) => q.customId));
    assert.ok([...again].filter((id) => asked.has(id)).length >= 4, "the requests in flight at the kill were asked again");

    const final = answerCounts(r);
    assert.ok([...final.values()].every((n) => n === 1), "an answer recorded twice");
    for (const id of answeredBefore) assert.equal(final.get(id), 1, id);
    assert.ok([...journals(r).keys()].includes("chat_validate.p0.jsonl"));
    for (const f of ["data/validated/prompts.jsonl", "data/validated/report.json"]) assert.ok(sameOutput(r, refRoot, f), `${f} differs from the uninterrupted build`);
  } finally {
    srv.release();
    await srv.close();
  }
});
