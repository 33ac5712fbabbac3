import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type Logger } from "pino";

/** Paths redacted from every log record; keys never reach a log line. */
const REDACT = [
  "apiKey",
  "api_key",
  "OPENAI_API_KEY",
  "authorization",
  "Authorization",
  "headers.authorization",
  "*.apiKey",
  "*.api_key",
  "*.authorization",
  "config.openai.apiKey",
];

const KEY_PATTERN = /sk-[A-Za-z0-9_-]{8,}/g;
/** Hugging Face tokens (the sidecar holds HF_TOKEN for hub downloads). */
const HF_PATTERN = /\bhf_[A-Za-z0-9]{20,}/g;

/** Masks anything shaped like an OpenAI or Hugging Face key inside free text (error messages, relayed sidecar lines). */
export function scrubSecrets(text: string): string {
  return text.replace(KEY_PATTERN, "sk-***").replace(HF_PATTERN, "hf_***");
}

/** A log argument with its free text scrubbed: strings, and the string fields of a plain object. */
function scrubArg(a: unknown): unknown {
  if (typeof a === "string") return scrubSecrets(a);
  if (a === null || typeof a !== "object" || Object.getPrototypeOf(a) !== Object.prototype) return a;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) out[k] = typeof v === "string" ? scrubSecrets(v) : v;
  return out;
}

let root: Logger | undefined;

/**
 * The process logger: JSON lines with ISO timestamps to stderr (stdout is for results) and, when a
 * run log file is given, to that file too.
 */
export function initLogger(opts: { level?: string; file?: string } = {}): Logger {
  const level = opts.level ?? process.env.SEMPRESS_LOG_LEVEL ?? "info";
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: pino.destination({ fd: 2, sync: true }) }];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    streams.push({ level: level as pino.Level, stream: pino.destination({ dest: opts.file, sync: true, append: true }) });
  }
  root = pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: "***" },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map(scrubArg);
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    pino.multistream(streams),
  );
  return root;
}

export function log(): Logger {
  return root ?? initLogger();
}
