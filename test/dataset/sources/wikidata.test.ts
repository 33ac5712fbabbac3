import { strict as assert } from "node:assert";
import { readFileSync, copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { factCandidates } from "../../../src/dataset/sources/facts.ts";
import { FACT_QUERIES, WikidataClient, WikidataCache, labelPairs } from "../../../src/dataset/sources/wikidata.ts";
import { startSparqlServer } from "../../peers/sparqlServer.ts";
import { removeRoot, tempRoot } from "../helpers.ts";

const CACHE = "data/raw/wikidata_cache.json";

test("the shipped cache holds every fact query in SPARQL JSON and says how it was built", () => {
  const c = WikidataCache.parse(JSON.parse(readFileSync(CACHE, "utf8")));
  assert.equal(c._header.built_by, "scripts/build_wikidata_cache.ts");
  assert.equal(c._header.not_from_wikidata, true);
  assert.match(String(c._header.source), /world-countries@/);
  for (const [name, q] of Object.entries(FACT_QUERIES)) {
    assert.equal(c.queries[name].sparql, q, name);
    assert.ok(c.queries[name].result.results.bindings.length > 150, name);
  }
  const capitals = new Map(labelPairs(c.queries.capital.result).map((p) => [p.subject, p.value]));
  assert.equal(capitals.get("France"), "Paris");
  assert.equal(capitals.get("Japan"), "Tokyo");
});

test("capital and currency queries use P36 and P38 on instances of Q6256", () => {
  assert.match(FACT_QUERIES.capital, /wdt:P31 wd:Q6256 ; wdt:P36 \?value/);
  assert.match(FACT_QUERIES.currency, /wdt:P31 wd:Q6256 ; wdt:P38 \?value/);
});

test("a cache miss goes to the endpoint once, is cached, and later reads need no network", async () => {
  const shipped = WikidataCache.parse(JSON.parse(readFileSync(CACHE, "utf8")));
  const table = Object.fromEntries(Object.values(shipped.queries).map((q) => [q.sparql, q.result]));
  const srv = await startSparqlServer(table);
  const dir = tempRoot("wd");
  try {
    const cacheFile = join(dir, "cache.json");
    const a = new WikidataClient({ endpoint: srv.endpoint, cacheFile });
    const r1 = await factCandidates(a, 50, 42);
    assert.equal(srv.queries.length, Object.keys(FACT_QUERIES).length);
    assert.equal(r1.fromCache, false);
    assert.ok(existsSync(cacheFile));
    const b = new WikidataClient({ endpoint: srv.endpoint, cacheFile, offline: true });
    const r2 = await factCandidates(b, 50, 42);
    assert.equal(srv.queries.length, Object.keys(FACT_QUERIES).length, "no new request");
    assert.deepEqual(
      r2.candidates.map((c) => c.question_text),
      r1.candidates.map((c) => c.question_text),
    );
    assert.ok(r1.candidates.every((c) => c.source === "wikidata") && r2.candidates.every((c) => c.source === "wikidata_cache"));
  } finally {
    await srv.close();
    removeRoot(dir);
  }
});

test("offline with a miss fails naming the cache file instead of reaching out", async () => {
  const dir = tempRoot("wd2");
  try {
    const cacheFile = join(dir, "cache.json");
    copyFileSync(CACHE, cacheFile);
    const c = new WikidataClient({ endpoint: "http://127.0.0.1:9/sparql", cacheFile, offline: true });
    await assert.rejects(c.query("other", "SELECT ?x WHERE { ?x ?y ?z }"), (e: Error) => e.message.includes(cacheFile));
  } finally {
    removeRoot(dir);
  }
});

test("fact templates F1–F5 and F13 appear with the designed text", async () => {
  const c = new WikidataClient({ endpoint: "http://127.0.0.1:9/sparql", cacheFile: CACHE, offline: true });
  const { candidates } = await factCandidates(c, 5000, 42);
  const ids = new Set(candidates.map((x) => x.template_id));
  for (const t of ["F1", "F2", "F3", "F4", "F5", "F13"]) assert.ok(ids.has(t), t);
  const fr = candidates.find((x) => x.template_id === "F1" && x.subject === "France");
  if (fr) assert.equal(fr.question_text, "Fill the blank with one word: The capital of France is ____.");
  const cur = candidates.find((x) => x.template_id === "F3" && x.subject === "Japan");
  assert.equal(cur?.question_text, "Complete with one word: The currency of Japan is ____.");
  assert.equal(cur?.target_word, "yen");
});
