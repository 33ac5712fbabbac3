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

/** Masks anything shaped like an OpenAI key inside free text (error messages, relayed sidecar lines). */
export function scrubSecrets(text: string): string {
  return text.replace(KEY_PATTERN, "sk-***");
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
          const scrubbed = args.map((a) => (typeof a === "string" ? scrubSecrets(a) : a));
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
