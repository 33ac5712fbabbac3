/**
 * `make protocol`: writes py-sidecar/sempress_sidecar/protocol_schema.py from the zod schemas in
 * src/rpc/protocol.ts (see src/rpc/protocolSchema.ts). Run after every change to the protocol.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PYTHON_MODULE_PATH, renderPythonModule } from "../src/rpc/protocolSchema.ts";

const path = fileURLToPath(new URL(`../${PYTHON_MODULE_PATH}`, import.meta.url));
const text = renderPythonModule();
let old = "";
try {
  old = readFileSync(path, "utf8");
} catch {
  /* first generation */
}
if (old === text) {
  process.stderr.write(`${PYTHON_MODULE_PATH} is up to date\n`);
} else {
  writeFileSync(path, text);
  process.stderr.write(`wrote ${PYTHON_MODULE_PATH}\n`);
}
