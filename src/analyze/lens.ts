/**
 * Logit lens (runs/logit_lens.csv) and attention/FFN decomposition (runs/ffn_attn_decomp.csv), both
 * conditions, at the decision input, over the first tokens of S(X) there (unit.sx_decision).
 */
import { DECOMP_COLUMNS, decompRows } from "../metrics/decompose.ts";
import { LOGIT_LENS_COLUMNS, logitLensRows } from "../metrics/logitLens.ts";
import type { DecompRow, LogitLensRow } from "../schemas.ts";
import type { SidecarBase } from "../rpc/ops.ts";
import { poolOf } from "../run/pool.ts";
import { Progress } from "../util/progress.ts";
import { decisionIds, type UnitRecord } from "../run/units.ts";
import { chunks, type Analysis, type UnitPair } from "./analysis.ts";

const bothConditions = (p: UnitPair): UnitRecord[] => [p.baseline, p.negative];
const keyOf = (u: UnitRecord) => ({ prompt_id: u.prompt_id, condition: u.condition, outcome: u.outcome });
const itemOf = (u: UnitRecord) => ({ ids: decisionIds(u), position: -1, token_ids: u.sx_decision.first });

/** An analysis that sends every unit's decision input to one sidecar op and turns each reply into rows (batches spread over the sidecar pool, rows in unit order). */
function decisionAnalysis<Row extends object, Probs>(
  name: "lens" | "decompose",
  columns: readonly string[],
  file: Analysis["file"],
  probe: (sidecar: SidecarBase, items: ReturnType<typeof itemOf>[]) => Promise<Probs[]>,
  rowsOf: (key: ReturnType<typeof keyOf>, probs: Probs) => Row[],
): Analysis<Row> {
  return {
    name,
    needs: [],
    columns,
    file,
    async run(ctx) {
      const rows: Row[] = [];
      const bar = new Progress(name, ctx.units.length);
      const groups = chunks(ctx.units, ctx.batch).map((g) => g.flatMap(bothConditions));
      const replies = poolOf(ctx.env.sidecar, ctx.env.hello).ordered(groups, async (sidecar, units) => ({ units, probs: await probe(sidecar, units.map(itemOf)) }));
      for await (const { units, probs } of replies) {
        units.forEach((u, i) => rows.push(...rowsOf(keyOf(u), probs[i])));
        bar.tick(units.length / 2);
      }
      bar.stop();
      return { rows };
    },
  };
}

export const lensAnalysis: Analysis<LogitLensRow> = decisionAnalysis("lens", LOGIT_LENS_COLUMNS, (p) => p.logitLens, (sidecar, items) => sidecar.logitLens(items), logitLensRows);

export const decomposeAnalysis: Analysis<DecompRow> = decisionAnalysis("decompose", DECOMP_COLUMNS, (p) => p.decomp, (sidecar, items) => sidecar.decompose(items), decompRows);
