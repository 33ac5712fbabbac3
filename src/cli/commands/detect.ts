/**
 * `sempress detect --target X (--text T | --ids 1,2,3) [--tokenizer tokenizer.json | --model M]`
 * prints one JSON object {present, matches:[{char_start,char_end,token_start,token_end}],
 * decision_step, text}. char_* are code point indices, token_end is inclusive. Without a tokenizer
 * (text only) token fields and decision_step are null; with --text and a tokenizer the text is
 * encoded first and detection runs on those ids. A mapping error is appended to
 * runs/errors/mapping_errors.jsonl under the data root and the command fails.
 */
import type { Command } from "commander";
import { InputError } from "../../errors.ts";
import { detectInIds, detectInText } from "../../detect/detector.ts";
import { mappingErrorPath } from "../../detect/mappingErrors.ts";
import { connectSidecar } from "../../rpc/client.ts";
import { HfTokenizer, type Tokenizer } from "../../tokenizer/hfTokenizer.ts";
import { configFor, printJson } from "../common.ts";

interface DetectOpts {
  target: string;
  text?: string;
  ids?: string;
  tokenizer?: string;
  model?: string;
}

export function parseIds(s: string): number[] {
  const parts = s.split(",").map((p) => p.trim()).filter((p) => p !== "");
  const ids = parts.map(Number);
  if (ids.length === 0 || ids.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new InputError(`--ids: expected comma-separated non-negative integers, got "${s}"`);
  }
  return ids;
}

export function register(program: Command): void {
  program
    .command("detect")
    .description("Find the target word X in a text or in generated token ids, with token spans and decision step")
    .requiredOption("--target <word>", "target word X")
    .option("--text <text>", "text to search")
    .option("--ids <ids>", "generated token ids, comma-separated")
    .option("--tokenizer <file>", "tokenizer.json (tokenizer_config.json beside it is read too)")
    .option("--model <model>", "take the tokenizer from this model's sidecar (HF id, path, random:<config>, default)")
    .action(async (o: DetectOpts, cmd: Command) => {
      const cfg = configFor(cmd, { model: o.model });
      if ((o.text === undefined) === (o.ids === undefined)) throw new InputError("give exactly one of --text and --ids");
      if (o.tokenizer && o.model) throw new InputError("give at most one of --tokenizer and --model");
      let tok: Tokenizer | null = null;
      let close = async () => {};
      if (o.tokenizer) tok = HfTokenizer.fromFile(o.tokenizer);
      else if (o.model) {
        const sc = await connectSidecar(cfg, { model: o.model });
        close = () => sc.close();
        try {
          tok = HfTokenizer.fromHello(await sc.hello());
        } finally {
          await close();
        }
      }
      if (o.ids !== undefined && !tok) throw new InputError("--ids needs --tokenizer or --model to decode");
      if (!tok) {
        printJson(detectInText(o.target, o.text as string));
        return;
      }
      const ids = o.ids !== undefined ? parseIds(o.ids) : tok.encode(o.text as string);
      printJson(detectInIds(o.target, ids, tok, { mappingErrorFile: mappingErrorPath(cfg.dataRoot), context: { source: "cli" } }));
    });
}
