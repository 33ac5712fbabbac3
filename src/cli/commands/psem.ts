/**
 * `sempress psem --question Q --target X [--condition baseline|negative] [--format raw|chat]
 *  [--model M] [--system S]` prints one JSON object: the prompt and its settings, p_sem (prefix-free
 * sum), p_sem_plain (plain sum) and every sequence of S(X) with ids, text, logprob, prob and
 * whether it is in the prefix-free set.
 */
import type { Command } from "commander";
import { InputError } from "../../errors.ts";
import { psemBatch } from "../../metrics/psem.ts";
import { buildPrompt, formatPrompt } from "../../prompts/promptBuilder.ts";
import { connectSidecar } from "../../rpc/client.ts";
import { HfTokenizer } from "../../tokenizer/hfTokenizer.ts";
import { configFor, printJson } from "../common.ts";

interface PsemOpts {
  question: string;
  target: string;
  condition: string;
  format?: "raw" | "chat";
  model?: string;
  system?: string;
}

export function register(program: Command): void {
  program
    .command("psem")
    .description("P_sem of target X after a question's baseline or negative prompt")
    .requiredOption("--question <text>", "the question (one line)")
    .requiredOption("--target <word>", "target word X")
    .option("--condition <c>", "baseline or negative", "baseline")
    .option("--format <f>", "prompt format raw or chat (default from config)")
    .option("--model <model>", "HF id, local path, random:<config.json> or default (embedded)")
    .option("--system <text>", "system message for the chat format (default from config: none)")
    .action(async (o: PsemOpts, cmd: Command) => {
      if (o.condition !== "baseline" && o.condition !== "negative") {
        throw new InputError(`--condition: expected baseline or negative, got "${o.condition}"`);
      }
      if (o.format && o.format !== "raw" && o.format !== "chat") throw new InputError(`--format: expected raw or chat, got "${o.format}"`);
      const cfg = configFor(cmd, { model: o.model, promptFormat: o.format });
      const format = cfg.model.promptFormat;
      const system = o.system ?? cfg.model.systemMessage;
      const raw = buildPrompt(o.question, o.condition, o.target);
      const sc = await connectSidecar(cfg);
      try {
        const hello = await sc.hello();
        const tok = HfTokenizer.fromHello(hello);
        const prompt = await formatPrompt(sc, raw, format, system);
        const [r] = await psemBatch(sc, tok, [{ prompt, target: o.target }]);
        printJson({
          model: hello.model_id,
          question: o.question,
          target: o.target,
          condition: o.condition,
          format,
          prompt,
          p_sem: r.p_sem,
          p_sem_plain: r.p_sem_plain,
          prompt_ids: r.prompt_ids,
          sequences: r.sequences,
        });
      } finally {
        await sc.close();
      }
    });
}
