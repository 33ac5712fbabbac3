/** Step 1: candidates from the sources (idioms CSV, Wikidata facts) and the creative/OOD targets. */
import { log } from "../../log.ts";
import { writeJson, writeJsonl } from "../../util/jsonl.ts";
import { inputPath } from "../paths.ts";
import { factCandidates } from "../sources/facts.ts";
import { idiomCandidates, readIdioms } from "../sources/idioms.ts";
import { drawTargets, eligibleTargets, readWritingPrompts } from "../sources/targets.ts";
import { WikidataClient, WIKIDATA_CACHE_FILE } from "../sources/wikidata.ts";
import { WordFreq, WORDFREQ_FILE } from "../sources/wordfreq.ts";
import type { Step } from "./context.ts";

export const IDIOMS_FILE = "data/raw/idioms.csv";
export const WRITING_PROMPTS_FILE = "data/raw/writingprompts.txt";

export const collectStep: Step = {
  name: "collect",
  inputs: [IDIOMS_FILE, WIKIDATA_CACHE_FILE, WORDFREQ_FILE, WRITING_PROMPTS_FILE],
  outputs: (p) => [p.stepFile("collected.jsonl"), p.stepFile("collect.json")],
  async run({ cfg, paths, provider }) {
    const ds = cfg.dataset;
    const seed = cfg.seeds.python;
    const idioms = idiomCandidates(readIdioms(inputPath(cfg, IDIOMS_FILE)), ds.poolSizes.idioms, seed);
    const wiki = new WikidataClient({
      endpoint: cfg.wikidata.endpoint,
      cacheFile: inputPath(cfg, WIKIDATA_CACHE_FILE),
      offline: provider.name === "replay",
    });
    const facts = await factCandidates(wiki, ds.poolSizes.facts, seed);
    const wf = WordFreq.load(inputPath(cfg, WORDFREQ_FILE));
    const eligible = eligibleTargets(wf, ds.zipfMin, ds.zipfMax);
    const k = ds.promptsPerTarget;
    const creative = drawTargets(eligible, Math.ceil(ds.poolSizes.creative / k), seed, "creative");
    const ood = drawTargets(eligible, Math.ceil(ds.poolSizes.ood / k), seed, "ood", new Set(creative));
    const seeds = readWritingPrompts(inputPath(cfg, WRITING_PROMPTS_FILE));
    if (seeds === null) log().info(`${WRITING_PROMPTS_FILE} absent: creative prompts are generated without writing-prompt seeds`);
    const collected = [...idioms.candidates, ...facts.candidates];
    writeJsonl(paths.stepFile("collected.jsonl"), collected);
    const counts = {
      idioms: idioms.candidates.length,
      idioms_eligible: idioms.eligible,
      idioms_rejected_source: idioms.rejected,
      facts: facts.candidates.length,
      facts_available: facts.available,
      facts_from_cache: facts.fromCache,
      wikidata_cache_header: wiki.header,
      target_words_eligible: eligible.length,
      creative_targets: creative.length,
      ood_targets: ood.length,
      writing_prompt_seeds: seeds?.length ?? null,
    };
    writeJson(paths.stepFile("collect.json"), { targets: { creative, ood }, seeds, counts });
    log().info({ ...counts, wikidata_cache_header: undefined }, `collected ${collected.length} candidates from sources`);
    return counts;
  },
};
