/**
 * Builds data/raw/wikidata_cache.json WITHOUT Wikidata (no network here): converts the country table
 * of the npm package `world-countries` (mledoze/countries, ODbL 1.0) into the SPARQL 1.1 JSON results
 * each of FACT_QUERIES would return, so the facts source runs offline. A machine that can reach
 * query.wikidata.org can delete the cache and let WikidataClient fill it with real answers.
 *
 *   cd /tmp && npm pack world-countries@5.1.0 && tar xzf world-countries-5.1.0.tgz
 *   node --import tsx scripts/build_wikidata_cache.ts /tmp/package/countries.json
 *
 * Mapping (world-countries field → query): only `independent: true` entries (stand-in for "instance
 * of country Q6256"); countryLabel = name.common; capital[] → capital; currencies[*].name → currency;
 * languages[*] → official_language; region/subregion → continent (Americas split into South America
 * and North America, Antarctic → Antarctica); demonyms.eng.m (and .f when different) → demonym.
 * Subject URIs are `urn:iso:3166-1:alpha-3:<cca3>`, not Wikidata Q-ids; values are literal labels.
 */
import { readFileSync } from "node:fs";
import { FACT_QUERIES, WIKIDATA_CACHE_FILE, type FactQueryName, type SparqlResults } from "../src/dataset/sources/wikidata.ts";
import { writeJson } from "../src/util/jsonl.ts";

interface Country {
  name: { common: string };
  cca3: string;
  independent?: boolean;
  capital?: string[];
  currencies?: Record<string, { name: string }>;
  languages?: Record<string, string>;
  region?: string;
  subregion?: string;
  demonyms?: { eng?: { m?: string; f?: string } };
}

const src = process.argv[2];
if (!src) throw new Error("usage: build_wikidata_cache.ts <world-countries countries.json>");
const pkg = JSON.parse(readFileSync(src.replace(/countries\.json$/, "package.json"), "utf8")) as { name: string; version: string; license?: string };
const countries = (JSON.parse(readFileSync(src, "utf8")) as Country[])
  .filter((c) => c.independent === true)
  .sort((a, b) => (a.name.common < b.name.common ? -1 : a.name.common > b.name.common ? 1 : 0));

function continent(c: Country): string[] {
  if (c.region === "Americas") return [c.subregion === "South America" ? "South America" : "North America"];
  if (c.region === "Antarctic") return ["Antarctica"];
  return c.region ? [c.region] : [];
}

const values: Record<FactQueryName, (c: Country) => string[]> = {
  capital: (c) => c.capital ?? [],
  currency: (c) => Object.values(c.currencies ?? {}).map((x) => x.name),
  official_language: (c) => Object.values(c.languages ?? {}),
  continent,
  demonym: (c) => [...new Set([c.demonyms?.eng?.m, c.demonyms?.eng?.f].filter((x): x is string => !!x))],
};

const queries: Record<string, { sparql: string; result: SparqlResults }> = {};
for (const name of Object.keys(FACT_QUERIES) as FactQueryName[]) {
  const vars = name === "demonym" ? ["country", "countryLabel", "valueLabel"] : ["country", "countryLabel", "value", "valueLabel"];
  const bindings: SparqlResults["results"]["bindings"] = [];
  for (const c of countries) {
    for (const v of values[name](c)) {
      bindings.push({
        country: { type: "uri", value: `urn:iso:3166-1:alpha-3:${c.cca3}` },
        countryLabel: { type: "literal", value: c.name.common, "xml:lang": "en" },
        valueLabel: { type: "literal", value: v, "xml:lang": "en" },
      });
    }
  }
  queries[name] = { sparql: FACT_QUERIES[name], result: { head: { vars }, results: { bindings } } };
}

writeJson(WIKIDATA_CACHE_FILE, {
  _header: {
    built_by: "scripts/build_wikidata_cache.ts",
    fetched_from: null,
    not_from_wikidata: true,
    source: `npm ${pkg.name}@${pkg.version} (countries.json, mledoze/countries), licence ${pkg.license ?? "ODbL-1.0"}`,
    how: "each FACT_QUERIES query answered from the package's country table in SPARQL 1.1 JSON results format; see the script's header for the field mapping",
    countries: countries.length,
    subject_uris: "urn:iso:3166-1:alpha-3:<code> (not Wikidata Q-ids)",
  },
  queries,
});
process.stderr.write(`wrote ${WIKIDATA_CACHE_FILE}: ${countries.length} countries, ${Object.keys(queries).length} queries\n`);
