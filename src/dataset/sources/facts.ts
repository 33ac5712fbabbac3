/**
 * Fact candidates from the Wikidata results (F1–F5, F13) and from generated `{subject, relation,
 * target_word}` replies (F1–F5, F13–F16). The target is one word of the value label: the label itself,
 * or for currencies the last word ("United States dollar" → "dollar"); multi-word capitals and
 * continents stay multi-word and are rejected later by the deterministic filters, as designed.
 */
import { Prng } from "../../util/prng.ts";
import { FACT_RELATIONS, FACT_TEMPLATES, factTemplatesFor, type FactRelation } from "../templates.ts";
import { makeCandidate, type Candidate } from "../types.ts";
import { FACT_QUERIES, labelPairs, type FactQueryName, type WikidataClient } from "./wikidata.ts";

export function factTarget(relation: FactRelation, value: string): string {
  const v = value.trim();
  if (relation === "currency") {
    const words = v.split(/\s+/);
    return words[words.length - 1].toLowerCase();
  }
  return v;
}

export function factCandidate(
  subject: string,
  relation: FactRelation,
  target: string,
  index: number,
  source: string,
  origin: string | null = null,
): Candidate {
  const ids = factTemplatesFor(relation);
  const tid = ids[index % ids.length];
  return makeCandidate({
    category: "facts",
    question_text: FACT_TEMPLATES[tid].text(subject),
    target_word: target,
    template_id: tid,
    source,
    subject,
    relation,
    origin,
  });
}

export function isFactRelation(r: string): r is FactRelation {
  return (FACT_RELATIONS as readonly string[]).includes(r);
}

/** All fact candidates the queries give, in a seeded order, first `n` kept. */
export async function factCandidates(
  client: WikidataClient,
  n: number,
  seed: number,
): Promise<{ candidates: Candidate[]; available: number; fromCache: boolean }> {
  const all: Candidate[] = [];
  let fromCache = true;
  // The shipped cache is converted from a country table, not fetched from Wikidata: say so.
  const cacheLabel = client.header.not_from_wikidata === true ? "world_countries_cache" : "wikidata_cache";
  const seen = new Set<string>();
  for (const name of Object.keys(FACT_QUERIES) as FactQueryName[]) {
    const { result, fromCache: hit } = await client.query(name, FACT_QUERIES[name]);
    fromCache &&= hit;
    labelPairs(result).forEach((p, i) => {
      const c = factCandidate(p.subject, name, factTarget(name, p.value), i, hit ? cacheLabel : "wikidata");
      if (seen.has(c.candidate_id)) return;
      seen.add(c.candidate_id);
      all.push(c);
    });
  }
  const candidates = new Prng(seed, "facts").shuffle(all).slice(0, n);
  return { candidates, available: all.length, fromCache };
}
