/**
 * A local SPARQL endpoint (node:http, loopback) answering GET ?query=… with SPARQL 1.1 JSON results
 * from a table keyed by the exact query text; unknown queries get HTTP 400. Counts requests.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SparqlServer {
  endpoint: string;
  queries: string[];
  close(): Promise<void>;
}

export async function startSparqlServer(table: Record<string, unknown>): Promise<SparqlServer> {
  const queries: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const q = url.searchParams.get("query");
    if (req.method !== "GET" || url.pathname !== "/sparql" || q === null) {
      res.writeHead(404).end();
      return;
    }
    queries.push(q);
    const hit = table[q];
    if (!hit) {
      res.writeHead(400, { "content-type": "text/plain" }).end("unknown query");
      return;
    }
    const body = JSON.stringify(hit);
    res.writeHead(200, { "content-type": "application/sparql-results+json" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/sparql`,
    queries,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
