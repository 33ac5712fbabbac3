/**
 * `sempress sidecar hello|tokenize|decode|generate|score [--model M] ...`: talk to the model sidecar
 * directly. Each sub-command starts the sidecar, prints one JSON object to stdout and stops it.
 *
 *   hello [--full]                            model facts (never the tokenizer.json text)
 *   tokenize --text T [--text T2] [--special] ids and offsets per text
 *   decode --ids 1,2,3 [--keep-special]       the text of those ids
 *   generate --prompt P [--max-new-tokens 8] [--format raw|chat] [--system S]
 *                                             greedy answer {prompt, ids, text}
 *   score --prompt P --continuation C [...]   log-probs of each continuation after the prompt
 */
import { HfTokenizer } from "../../tokenizer/hfTokenizer.ts";
import type { Command } from "commander";
import type { Config } from "../../config.ts";
import { InputError } from "../../errors.ts";
import { connectSidecar, type SidecarClient } from "../../rpc/client.ts";
import { configFor, printJson } from "../common.ts";

interface ModelOpt {
  model?: string;
}

const MODEL_HELP = "HF id, local path, file.gguf, random:<config.json> or default (embedded)";

async function withSidecar<T>(cmd: Command, o: ModelOpt & { format?: "raw" | "chat" }, fn: (sc: SidecarClient, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = configFor(cmd, { model: o.model, promptFormat: o.format });
  const sc = await connectSidecar(cfg);
  try {
    return await fn(sc, cfg);
  } finally {
    await sc.close();
  }
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InputError(`${flag}: expected a positive integer, got "${v}"`);
    return n;
  };
}

function parseIds(v: string): number[] {
  const ids = v.split(/[\s,]+/).filter(Boolean).map(Number);
  if (ids.length === 0 || !ids.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new InputError(`--ids: expected comma-separated non-negative integers, got "${v}"`);
  }
  return ids;
}

/** The prompt as the model sees it: raw text, or wrapped by the model's chat template. */
async function formatted(sc: SidecarClient, cfg: Config, prompt: string, system?: string): Promise<string> {
  if (cfg.model.promptFormat === "raw") return prompt;
  const [t] = await sc.chatTemplate([prompt], system ?? cfg.model.systemMessage);
  return t;
}

/**
 * Gives a sub-command its --model option (last, after the command's own) and an action that starts the
 * sidecar, prints the JSON object `fn` returns, and stops the sidecar.
 */
function sidecarAction<O extends object>(cmd: Command, fn: (sc: SidecarClient, cfg: Config, o: O) => Promise<object>): void {
  cmd.option("--model <model>", MODEL_HELP).action(async (o: O & ModelOpt & { format?: string }, self: Command) => {
    if (o.format && o.format !== "raw" && o.format !== "chat") throw new InputError(`--format: expected raw or chat, got "${o.format}"`);
    printJson(await withSidecar(self, o as ModelOpt & { format?: "raw" | "chat" }, (sc, cfg) => fn(sc, cfg, o)));
  });
}

export function register(program: Command): void {
  const sidecar = program.command("sidecar").description("talk to the model sidecar directly (JSON on stdout)");

  sidecarAction(
    sidecar.command("hello").description("start the sidecar and print the model's facts")
      .option("--full", "also print tokenizer_config and the chat template", false),
    async (sc, _cfg, o: { full: boolean }) => {
      const { tokenizer_json: _json, tokenizer_config, chat_template, ...facts } = await sc.hello();
      return o.full ? { ...facts, tokenizer_config, chat_template } : { ...facts, has_chat_template: chat_template !== null };
    },
  );

  sidecarAction(
    sidecar.command("tokenize").description("token ids and character offsets of each --text")
      .requiredOption("--text <text>", "text to tokenize (repeatable)", collect)
      .option("--special", "add the tokenizer's special tokens (BOS etc.)", false),
    async (sc, _cfg, o: { text: string[]; special: boolean }) => {
      const r = await sc.tokenize(o.text, o.special);
      return { texts: o.text, ids: r.ids, offsets: r.offsets };
    },
  );

  sidecarAction(
    sidecar.command("decode").description("text of comma-separated token ids")
      .requiredOption("--ids <ids>", "token ids, e.g. 9707,1879", parseIds)
      .option("--keep-special", "keep special tokens in the text", false),
    async (sc, _cfg, o: { ids: number[]; keepSpecial: boolean }) => {
      const [text] = await sc.decode([o.ids], !o.keepSpecial);
      return { ids: o.ids, text };
    },
  );

  sidecarAction(
    sidecar.command("generate").description("greedy answer to --prompt")
      .requiredOption("--prompt <text>", "prompt text")
      .option("--max-new-tokens <n>", "new tokens at most", positiveInt("--max-new-tokens"), 8)
      .option("--format <f>", "raw or chat (default from config)")
      .option("--system <text>", "system message for the chat format"),
    async (sc, cfg, o: { prompt: string; maxNewTokens: number; system?: string }) => {
      const text = await formatted(sc, cfg, o.prompt, o.system);
      // the same ids generation and P_sem use everywhere: BOS in front when the model expects one
      const promptIds = HfTokenizer.fromHello(await sc.hello()).encodePrompt(text);
      if (promptIds.length === 0) throw new InputError("--prompt: the prompt tokenizes to nothing");
      const [[ids]] = await sc.generate([promptIds], { max_new_tokens: o.maxNewTokens, do_sample: false });
      const [answer] = await sc.decode([ids], true);
      return { prompt: o.prompt, format: cfg.model.promptFormat, formatted: text, prompt_ids: promptIds, ids, text: answer };
    },
  );

  sidecarAction(
    sidecar.command("score").description("log-probs of each --continuation after --prompt (tokenized apart, teacher-forced)")
      .requiredOption("--prompt <text>", "prompt text")
      .requiredOption("--continuation <text>", "continuation text (repeatable)", collect)
      .option("--format <f>", "raw or chat (default from config)"),
    async (sc, cfg, o: { prompt: string; continuation: string[] }) => {
      const text = await formatted(sc, cfg, o.prompt);
      const { ids: conts } = await sc.tokenize(o.continuation);
      const prefix = HfTokenizer.fromHello(await sc.hello()).encodePrompt(text);
      conts.forEach((c, i) => {
        if (c.length === 0) throw new InputError(`--continuation "${o.continuation[i]}" tokenizes to nothing`);
      });
      const [lp] = await sc.score([{ prefix, continuations: conts }]);
      return {
        prompt: o.prompt,
        format: cfg.model.promptFormat,
        prompt_ids: prefix,
        continuations: o.continuation.map((t, i) => {
          const sum = lp[i].reduce((a, b) => a + b, 0);
          return { text: t, ids: conts[i], logprobs: lp[i], logprob: sum, prob: Math.exp(sum) };
        }),
      };
    },
  );
}
