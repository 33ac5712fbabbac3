/**
 * Bridge overhead: the TS client ↔ Python sidecar (msgpack envelope, zod validation, Arrow tensor)
 * against raw ZeroMQ carrying the same bytes, measured in the same run:
 *  - raw_py:   a Dealer in this process ↔ a bare pyzmq ROUTER echo (bench/raw_echo.py), same transport;
 *  - raw_node: a Dealer ↔ Router pair inside this process (no Python at all).
 * Measurements: round-trip time of an empty echo, and a 64 MiB float32 tensor echoed (encode, send,
 * receive, decode) — plus ratios bridge / raw.
 * Env: SEMPRESS_BENCH_MODEL (default the tiny random Qwen2), SEMPRESS_BENCH_TRANSPORT ipc|tcp (default ipc).
 */
import { spawn } from "node:child_process";
import { Dealer, Router } from "zeromq";
import { decodeTensor, encodeTensor } from "../src/rpc/arrow.ts";
import { SidecarClient } from "../src/rpc/client.ts";
import { REPO_ROOT, privateEndpoint } from "../src/rpc/process.ts";
import { encodeRequest } from "../src/rpc/wire.ts";
import { defineBench, stats, timeIt, type BenchContext } from "./harness.ts";

const MIB = 1024 * 1024;
const TENSOR_MIB = 64;
const EMPTY_N = 1000;
const BIG_N = 5;

async function rawPair(endpoint: string): Promise<{ rtt(b: Buffer): Promise<Buffer>; close(): void }> {
  const r = new Router({ linger: 0 });
  await r.bind(endpoint);
  void (async () => {
    for await (const frames of r) await r.send(frames);
  })().catch(() => {});
  const d = new Dealer({ linger: 0 });
  d.connect(endpoint);
  return {
    async rtt(b) {
      await d.send(b);
      return (await d.receive())[0];
    },
    close() {
      d.close();
      r.close();
    },
  };
}

async function rawPython(python: string, endpoint: string, ctx: BenchContext) {
  const p = spawn(python, ["bench/raw_echo.py", endpoint], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
  await new Promise<void>((res, rej) => {
    p.stderr!.once("data", () => res());
    p.once("exit", (c) => rej(new Error(`raw_echo.py exited with ${c}`)));
  });
  ctx.note(`raw pyzmq echo ready (pid ${p.pid})`);
  const d = new Dealer({ linger: 0 });
  d.connect(endpoint);
  return {
    async rtt(b: Buffer) {
      await d.send(b);
      return (await d.receive())[0];
    },
    close() {
      d.close();
      p.kill("SIGKILL");
    },
  };
}

export default defineBench({
  name: "bridge",
  description: "TS↔Python sidecar round trips (empty echo, 64 MiB float32 tensor) vs raw ZeroMQ",
  async run(ctx) {
    const model = process.env.SEMPRESS_BENCH_MODEL ?? "random:py-sidecar/configs/qwen2-tiny.json";
    const transport = (process.env.SEMPRESS_BENCH_TRANSPORT ?? "ipc") as "ipc" | "tcp";
    const python = process.env.SEMPRESS_PYTHON ?? ".venv/bin/python";
    ctx.note(`starting sidecar (${model}, ${transport})`);
    const sc = new SidecarClient({ model, python, transport, startTimeoutMs: 600_000, requestTimeoutMs: 600_000 });
    const t0 = performance.now();
    await sc.start();
    ctx.emit({ name: "sidecar_start", value: (performance.now() - t0) / 1000, unit: "s", n: 1, note: model });
    const pyEp = await privateEndpoint(transport, "raw-py");
    const nodeEp = await privateEndpoint(transport, "raw-node");
    const py = await rawPython(python, pyEp.endpoint, ctx);
    const node = await rawPair(nodeEp.endpoint);
    try {
      // ---------------------------------------------------------------- empty round trip
      const req = encodeRequest("bench-000001", "echo", {}); // the same bytes the bridge sends
      const empty = {
        bridge: stats(await timeIt(EMPTY_N, 100, () => sc.echo())),
        raw_py: stats(await timeIt(EMPTY_N, 100, () => py.rtt(req))),
        raw_node: stats(await timeIt(EMPTY_N, 100, () => node.rtt(req))),
      };
      for (const [k, s] of Object.entries(empty)) {
        ctx.emit({ name: `echo_empty_rtt_${k}`, value: s.median * 1000, unit: "us", n: EMPTY_N, stat: "median", p90_us: s.p90 * 1000, note: `p90 ${(s.p90 * 1000).toFixed(0)} us` });
      }
      ctx.emit({ name: "echo_empty_ratio_bridge_vs_raw_py", value: empty.bridge.median / empty.raw_py.median, unit: "x", note: "median rtt" });
      ctx.emit({ name: "echo_empty_ratio_bridge_vs_raw_node", value: empty.bridge.median / empty.raw_node.median, unit: "x", note: "median rtt" });

      // ---------------------------------------------------------------- 64 MiB float32 tensor
      const data = new Float32Array((TENSOR_MIB * MIB) / 4);
      for (let i = 0; i < data.length; i++) data[i] = (i % 1000) * 0.001;
      const raw = Buffer.from(data.buffer);
      let check = 0;
      const big = {
        bridge: stats(
          await timeIt(BIG_N, 1, async () => {
            const back = await sc.echo(encodeTensor({ data, shape: [4096, data.length / 4096] }));
            const t = decodeTensor(back!);
            check = (t.data as Float32Array)[123457];
          }),
        ),
        raw_py: stats(await timeIt(BIG_N, 1, () => py.rtt(raw))),
        raw_node: stats(await timeIt(BIG_N, 1, () => node.rtt(raw))),
      };
      if (check !== data[123457]) throw new Error("tensor came back changed");
      for (const [k, s] of Object.entries(big)) {
        ctx.emit({ name: `echo_64MiB_rtt_${k}`, value: s.median, unit: "ms", n: BIG_N, stat: "median", note: `${((TENSOR_MIB * 1000) / s.median).toFixed(0)} MiB/s each way` });
        ctx.emit({ name: `echo_64MiB_throughput_${k}`, value: (TENSOR_MIB * 1000) / s.median, unit: "MiB/s", n: BIG_N, note: "64 MiB per round trip / median rtt" });
      }
      ctx.emit({ name: "echo_64MiB_ratio_bridge_vs_raw_py", value: big.bridge.median / big.raw_py.median, unit: "x", note: "median rtt" });
      ctx.emit({ name: "echo_64MiB_ratio_bridge_vs_raw_node", value: big.bridge.median / big.raw_node.median, unit: "x", note: "median rtt" });
    } finally {
      py.close();
      node.close();
      pyEp.dispose();
      nodeEp.dispose();
      await sc.close();
    }
  },
});
