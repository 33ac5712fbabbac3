/** Prompt views (src/report/views.ts) built by hand for the compare tests. */
import type { PromptView } from "../../src/report/views.ts";

/** One prompt: P0, k violations in n samples under the prohibition, and its greedy outcome. */
export function view(prompt_id: string, p0: number, k: number, n = 16, bin = Math.min(4, Math.floor(p0 * 5)), greedyFail = false): PromptView {
  const p1 = p0 / 2;
  return {
    prompt_id, category: "facts", target_word: "x", bin, p0, p1, delta: p0 - p1, rel: 0.5, logRatio: Math.log(2),
    neg: { prompt_id, condition: "negative", n_samples: n, violation_rate: k / n, format_adherence_rate: 1, clean_success_rate: 1 - k / n, greedy_violation: greedyFail ? 1 : 0 },
    outcome: greedyFail ? "failure" : "success",
  };
}

/** `n` prompts spread over P0 in (0, 1) with violations rising with P0, deterministic. */
export function spread(n: number, prefix = "p", kOf = (p0: number, i: number) => Math.min(16, Math.round(16 * (0.1 + 0.5 * p0) + ((i * 7) % 5) - 2))): PromptView[] {
  return Array.from({ length: n }, (_, i) => {
    const p0 = (i + 0.5) / n;
    return view(`${prefix}${String(i).padStart(3, "0")}`, p0, Math.max(0, kOf(p0, i)), 16, undefined, i % 3 === 0);
  });
}
