/** Attention routing at the decision step of the negative prompt: runs/attention_metrics.csv. */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { InputError } from "../errors.ts";
import { ATTENTION_COLUMNS, attentionRows } from "../metrics/attention.ts";
import type { AttentionRow } from "../schemas.ts";
import { Progress } from "../util/progress.ts";
import { decisionRows, loadTrace } from "../run/traceFile.ts";
import type { Analysis } from "./analysis.ts";

export const attentionAnalysis: Analysis<AttentionRow> = {
  name: "attention",
  needs: ["decision_attention"],
  columns: ATTENTION_COLUMNS,
  file: (p) => p.attention,
  async run({ cfg, paths, units }) {
    const rows: AttentionRow[] = [];
    const bar = new Progress("attention", units.length);
    for (const [i, { negative: u }] of units.entries()) {
      // Yield now and then, so the sidecar analyses running alongside (./index.ts) keep their requests going.
      if (i % 4 === 3) await new Promise((r) => setImmediate(r));
      const f = join(paths.runs, u.trace.file);
      if (!existsSync(f)) throw InputError.at(f, null, null, "trace file missing (re-run `sempress run --resume`)");
      if (!u.spans) throw InputError.at(paths.units, null, "spans", `negative unit of ${u.prompt_id} has no spans`);
      const key = { prompt_id: u.prompt_id, condition: u.condition, outcome: u.outcome };
      rows.push(...attentionRows(key, decisionRows(loadTrace(f)), u.spans, cfg.analysis.epsilon));
      bar.tick();
    }
    bar.stop();
    return { rows };
  },
};
