/**
 * Benches that talk to a sidecar: started for `--model M` (default: the tiny random Qwen2 with the real
 * tokenizer), handed over with its hello and tokenizer, and always closed afterwards; numeric options
 * are declared with their defaults and read from the bench's argv (`-- --name V`).
 */
import { loadConfig } from "../src/config.ts";
import { connectSidecar, type SidecarClient } from "../src/rpc/client.ts";
import type { HelloResult } from "../src/rpc/protocol.ts";
import { HfTokenizer } from "../src/tokenizer/hfTokenizer.ts";
import { arg, defineBench, type Bench, type BenchContext } from "./harness.ts";

export const TINY_MODEL = "random:py-sidecar/configs/qwen2-tiny.json";

export interface BenchSidecar {
  sc: SidecarClient;
  hello: HelloResult;
  tok: HfTokenizer;
  /** The model spec it was started for. */
  model: string;
}

export async function withSidecar<T>(argv: string[], fn: (s: BenchSidecar) => Promise<T>): Promise<T> {
  const model = arg(argv, "model", TINY_MODEL);
  const sc = await connectSidecar(loadConfig({ flags: { model: { id: model } } as never }));
  try {
    const hello = await sc.hello();
    return await fn({ sc, hello, tok: HfTokenizer.fromHello(hello), model });
  } finally {
    await sc.close();
  }
}

/** Numeric value of `--name V` in a bench's argv, else the default. */
export function num(argv: string[], name: string, dflt: number): number {
  return Number(arg(argv, name, String(dflt)));
}

/** A bench module over one sidecar, with numeric options `options` (name → default). */
export function sidecarBench<O extends Record<string, number>>(b: {
  name: string;
  description: string;
  options: O;
  run(ctx: BenchContext, s: BenchSidecar, o: O): Promise<void>;
}): Bench {
  return defineBench({
    name: b.name,
    description: b.description,
    run(ctx) {
      const o = Object.fromEntries(Object.entries(b.options).map(([k, v]) => [k, num(ctx.argv, k, v)])) as O;
      return withSidecar(ctx.argv, (s) => b.run(ctx, s, o));
    },
  });
}
