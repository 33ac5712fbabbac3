/** Starts the configured sidecar and builds the matching tokenizer from its hello (the CLI's RunEnv). */
import type { Config } from "../config.ts";
import { connectSidecar } from "../rpc/client.ts";
import { HfTokenizer } from "../tokenizer/hfTokenizer.ts";
import type { RunEnv } from "./env.ts";

export async function connectRunEnv(cfg: Config): Promise<RunEnv & { close(): Promise<void> }> {
  const sidecar = await connectSidecar(cfg);
  try {
    const hello = await sidecar.hello();
    const tokenizer = HfTokenizer.fromHello(hello);
    return { sidecar, hello, tokenizer, close: () => sidecar.close() };
  } catch (e) {
    await sidecar.close();
    throw e;
  }
}
