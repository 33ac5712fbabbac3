/** Validation of one record read from a file, shared by the JSON, JSONL and CSV readers. */
import type { z } from "zod";
import { InputError } from "../errors.ts";

/** `value` checked against `schema`; the error names the file, the line (null for a whole file) and the first bad field. */
export function parseRecord<S extends z.ZodTypeAny>(schema: S, value: unknown, file: string, line: number | null): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const iss = r.error.issues[0];
  throw InputError.at(file, line, iss.path.join(".") || null, iss.message);
}
