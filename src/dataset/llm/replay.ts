/**
 * The offline provider: answers batch requests from recorded Batch API output lines — the
 * `responses_*.jsonl` audit logs of an earlier build, or the bundled demo set (data/replay/demo, hand
 * written and labelled `_demo`). A request with no recorded line gets no reply (the runner retries it
 * once, then drops and counts it). When the directory's demo.json names the demo validation rule,
 * validation requests without a recorded line are answered by that rule (see demoResponder.ts).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../../errors.ts";
import { log } from "../../log.ts";
import type { RequestPart } from "../batch/files.ts";
import type { Ledger } from "../batch/ledger.ts";
import { parseOutputLines, type OutputLine } from "../batch/output.ts";
import type { BatchRequestLine } from "../batch/request.ts";
import { DEMO_RULE, demoValidationLine } from "./demoResponder.ts";
import type { BatchProvider, LlmProvenance, PartResult } from "./provider.ts";

const DemoManifest = z.object({ _demo: z.literal(true), validation_responder: z.string().nullable().optional() });

export class ReplayProvider implements BatchProvider {
  readonly name = "replay";
  private readonly recorded = new Map<string, OutputLine & { _replay_file: string }>();
  private readonly demoRule: boolean;
  /** True when the directory is the labelled demo set. */
  readonly isDemo: boolean;

  constructor(readonly dir: string) {
    if (!existsSync(dir)) throw new ConfigError(`replay directory ${dir} does not exist`, "replay_dir_missing");
    const manifestFile = join(dir, "demo.json");
    let rule: string | null = null;
    this.isDemo = false;
    if (existsSync(manifestFile)) {
      const m = DemoManifest.parse(JSON.parse(readFileSync(manifestFile, "utf8")));
      this.isDemo = true;
      rule = m.validation_responder ?? null;
      if (rule && rule !== DEMO_RULE) throw new ConfigError(`${manifestFile}: unknown validation_responder "${rule}"`);
    }
    this.demoRule = rule === DEMO_RULE;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith(".jsonl") || f.startsWith("requests_") || f.startsWith("replies_")) continue;
      const { lines } = parseOutputLines(readFileSync(join(dir, f), "utf8"));
      for (const l of lines) {
        if (!l.response && !l.error) continue;
        // Later files win for the same id, except that an error never replaces a recorded success.
        const prev = this.recorded.get(l.custom_id);
        if (prev && !prev.error && l.error) continue;
        this.recorded.set(l.custom_id, { ...l, _replay_file: f });
      }
    }
    log().info({ dir, recorded: this.recorded.size, demo: this.isDemo, demo_rule: this.demoRule }, "replay provider ready");
  }

  provenance(): LlmProvenance {
    return { provider: this.name, model: null, base_url: null, server_model: null, replay_dir: this.dir, demo: this.isDemo, validation_responder: this.demoRule ? DEMO_RULE : null };
  }

  get size(): number {
    return this.recorded.size;
  }

  lineFor(req: BatchRequestLine): OutputLine | null {
    const rec = this.recorded.get(req.custom_id);
    if (rec) return rec;
    if (this.demoRule && req.custom_id.startsWith("val:")) return demoValidationLine(req);
    return null;
  }

  async runPart(part: RequestPart, requests: readonly BatchRequestLine[], ledger: Ledger): Promise<PartResult> {
    const lines: OutputLine[] = [];
    for (const r of requests) {
      const l = this.lineFor(r);
      if (l) lines.push(l);
    }
    ledger.put(part.partKey, {
      provider: this.name,
      requests_file: part.file,
      requests_sha256: part.sha256,
      n_requests: part.n,
      batch_id: `replay:${part.partKey}`,
      status: "completed",
      request_counts: { total: part.n, completed: lines.length, failed: part.n - lines.length },
    });
    return { lines, status: "completed" };
  }
}
