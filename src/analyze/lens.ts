/**
 * Logit lens (runs/logit_lens.csv) and attention/FFN decomposition (runs/ffn_attn_decomp.csv), both
 * conditions, at the decision input, over the first tokens of S(X) there (unit.sx_decision).
 */
import { DECOMP_COLUMNS, decompRows } from "../metrics/decompose.ts";
import { LOGIT_LENS_COLUMNS, logitLensRows } from "../metrics/logitLens.ts";
import type { DecompRow, LogitLensRow } from "../schemas.ts";
import { Progress } from "../util/progress.ts";
import { decisionIds, type UnitRecord } from "../run/units.ts";
import { chunks, type Analysis, type AnalysisContext, type UnitPair } from "./analysis.ts";

const bothConditions = (p: UnitPair): UnitRecord[] => [p.baseline, p.negative];
const keyOf = (u: UnitRecord) => ({ prompt_id: u.prompt_id, condition: u.condition, outcome: u.outcome });
const itemOf = (u: UnitRecord) => ({ ids: decisionIds(u), position: -1, token_ids: u.sx_decision.first });

async function perBatch<Row>(ctx: AnalysisContext, name: string, rowsOf: (units: UnitRecord[]) => Promise<Row[]>): Promise<Row[]> {
  const rows: Row[] = [];
  const bar = new Progress(name, ctx.units.length);
  for (const group of chunks(ctx.units, ctx.batch)) {
    rows.push(...(await rowsOf(group.flatMap(bothConditions))));
    bar.tick(group.length);
  }
  bar.stop();
  return rows;
}

export const lensAnalysis: Analysis<LogitLensRow> = {
  name: "lens",
  needs: [],
  columns: LOGIT_LENS_COLUMNS,
  file: (p) => p.logitLens,
  async run(ctx) {
    const rows = await perBatch(ctx, "lens", async (units) => {
      const probs = await ctx.env.sidecar.logitLens(units.map(itemOf));
      return units.flatMap((u, i) => logitLensRows(keyOf(u), probs[i]));
    });
    return { rows };
  },
};

export const decomposeAnalysis: Analysis<DecompRow> = {
  name: "decompose",
  needs: [],
  columns: DECOMP_COLUMNS,
  file: (p) => p.decomp,
  async run(ctx) {
    const rows = await perBatch(ctx, "decompose", async (units) => {
      const probs = await ctx.env.sidecar.decompose(units.map(itemOf));
      return units.flatMap((u, i) => decompRows(keyOf(u), probs[i]));
    });
    return { rows };
  },
};
