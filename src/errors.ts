/**
 * One error tree with stable codes. The CLI maps `exitCode` to the process exit status and prints
 * `message` as one line; tests assert on `code`.
 */
export class SempressError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad configuration: unknown profile, invalid value, unwritable data root. */
export class ConfigError extends SempressError {
  constructor(message: string, code = "config_invalid", options?: { cause?: unknown }) {
    super(code, message, 2, options);
  }
}

/** Bad input data. `where` names file, line and field so the user can fix it. */
export class InputError extends SempressError {
  constructor(message: string, code = "input_invalid", options?: { cause?: unknown }) {
    super(code, message, 3, options);
  }
  static at(file: string, line: number | null, field: string | null, problem: string): InputError {
    const loc = [file, line !== null ? `line ${line}` : null, field !== null ? `field ${field}` : null]
      .filter(Boolean)
      .join(", ");
    return new InputError(`${loc}: ${problem}`);
  }
}

/** The sidecar answered with an error, died, or timed out. `remote` carries the Python side's error. */
export class SidecarError extends SempressError {
  readonly remote?: { type: string; message: string; traceback?: string };
  constructor(
    message: string,
    code = "sidecar_error",
    remote?: { type: string; message: string; traceback?: string },
    options?: { cause?: unknown },
  ) {
    super(code, message, 4, options);
    this.remote = remote;
  }
}

/** OpenAI Batch API trouble: failed/expired batch, unreadable output. */
export class BatchError extends SempressError {
  constructor(message: string, code = "batch_error", options?: { cause?: unknown }) {
    super(code, message, 5, options);
  }
}

/** Token mapping failed for a detected match: the science cannot proceed silently past this. */
export class MappingError extends SempressError {
  readonly record: unknown;
  constructor(message: string, record: unknown) {
    super("mapping_error", message, 6);
    this.record = record;
  }
}
