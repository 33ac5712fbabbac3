/**
 * Wikidata SPARQL client with an on-disk cache (data/raw/wikidata_cache.json) in the SPARQL 1.1 JSON
 * results format. Every query is looked up in the cache by name and exact text first; only a miss
 * goes to the endpoint (and is then written to the cache), so reruns and offline runs never need the
 * network. `offline: true` turns a miss into an error instead of a request.
 */
import { existsSync } from "node:fs";
import { z } from "zod";
import { SempressError } from "../../errors.ts";
import { log } from "../../log.ts";
import { readJsonFile, writeJson } from "../../util/jsonl.ts";

export const WIKIDATA_CACHE_FILE = "data/raw/wikidata_cache.json";

const LABEL = `SERVICE wikibase:label { bd:serviceParam wikibase:language "en". }`;

/** Countries (instances of Q6256) with the item value of one property, labelled in English. */
function countryValueQuery(property: string): string {
  return `SELECT ?country ?countryLabel ?value ?valueLabel WHERE {
  ?country wdt:P31 wd:Q6256 ; wdt:${property} ?value .
  ${LABEL}
}`;
}

/** The fact queries (countries: instances of Q6256). Names are cache keys. */
export const FACT_QUERIES = {
  capital: countryValueQuery("P36"),
  currency: countryValueQuery("P38"),
  official_language: countryValueQuery("P37"),
  continent: countryValueQuery("P30"),
  demonym: `SELECT ?country ?countryLabel ?valueLabel WHERE {
  ?country wdt:P31 wd:Q6256 ; wdt:P1549 ?valueLabel .
  FILTER(LANG(?valueLabel) = "en")
  ${LABEL}
}`,
} as const;
export type FactQueryName = keyof typeof FACT_QUERIES;

const Term = z.object({ type: z.string(), value: z.string(), "xml:lang": z.string().optional(), datatype: z.string().optional() });
export const SparqlResults = z.object({
  head: z.object({ vars: z.array(z.string()) }),
  results: z.object({ bindings: z.array(z.record(z.string(), Term)) }),
});
export type SparqlResults = z.infer<typeof SparqlResults>;

export const WikidataCache = z.object({
  /** How the cache was built (endpoint and date, or the offline source it was converted from). */
  _header: z.record(z.string(), z.unknown()),
  queries: z.record(z.string(), z.object({ sparql: z.string(), result: SparqlResults })),
});
export type WikidataCache = z.infer<typeof WikidataCache>;

export interface WikidataClientOptions {
  endpoint: string;
  cacheFile: string;
  offline?: boolean;
  fetchImpl?: typeof fetch;
}

export class WikidataClient {
  private cache: WikidataCache;
  constructor(private readonly opts: WikidataClientOptions) {
    this.cache = readCache(opts.cacheFile);
  }

  get header(): Record<string, unknown> {
    return this.cache._header;
  }

  /** Results of one named query: from the cache when its exact text is there, else from the endpoint. */
  async query(name: string, sparql: string): Promise<{ result: SparqlResults; fromCache: boolean }> {
    const hit = this.cache.queries[name];
    if (hit && hit.sparql === sparql) return { result: hit.result, fromCache: true };
    if (this.opts.offline) {
      throw new SempressError("wikidata_offline", `${this.opts.cacheFile}: no cached result for query "${name}" and offline mode is on`);
    }
    const url = `${this.opts.endpoint}?query=${encodeURIComponent(sparql)}`;
    const res = await (this.opts.fetchImpl ?? fetch)(url, {
      headers: { accept: "application/sparql-results+json", "user-agent": "sempress-dataset/0.1 (research)" },
    });
    if (!res.ok) throw new SempressError("wikidata_http", `${this.opts.endpoint}: HTTP ${res.status} for query "${name}"`);
    const parsed = SparqlResults.safeParse(await res.json());
    if (!parsed.success) throw new SempressError("wikidata_bad_reply", `${this.opts.endpoint}: reply to "${name}" is not SPARQL JSON`);
    this.cache.queries[name] = { sparql, result: parsed.data };
    if (!this.cache._header.fetched_from) this.cache._header.fetched_from = this.opts.endpoint;
    writeJson(this.opts.cacheFile, this.cache);
    log().info({ query: name, rows: parsed.data.results.bindings.length }, "wikidata query cached");
    return { result: parsed.data, fromCache: false };
  }
}

function readCache(file: string): WikidataCache {
  if (!existsSync(file)) return { _header: { built_by: "WikidataClient (live queries)" }, queries: {} };
  return readJsonFile(file, WikidataCache);
}

/** (subject label, value label) pairs of a result, in result order, blank labels skipped. */
export function labelPairs(result: SparqlResults): { subject: string; value: string }[] {
  const out: { subject: string; value: string }[] = [];
  for (const b of result.results.bindings) {
    const subject = b.countryLabel?.value?.trim();
    const value = b.valueLabel?.value?.trim();
    if (subject && value) out.push({ subject, value });
  }
  return out;
}
