/**
 * The environment the Python sidecar child gets: an allow-list, so API keys and other secrets of
 * the CLI's environment (OPENAI_API_KEY, cloud credentials) never reach it. HF_TOKEN passes (HF_*):
 * the sidecar needs it for hub downloads.
 */

/** Variables passed by exact name. */
const NAMES = new Set([
  "PATH", "HOME", "LANG", "TMPDIR", "TZ",
  // shared libraries of a CUDA install outside the wheel
  "LD_LIBRARY_PATH",
  // hub downloads behind a proxy or a private CA
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
  "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
]);

/**
 * Variables passed by prefix. CUDA_VISIBLE_DEVICES reaches every sidecar (each pins itself within it,
 * py-sidecar/sempress_sidecar/devices.py); NCCL_ and NVSHMEM_ carry a host's GPU-sharing settings (e.g.
 * NVLink multicast off) to a sidecar spread over several GPUs.
 */
const PREFIXES = [
  "LC_", "PYTHON", "OMP_", "MKL_", "OPENBLAS_", "CUDA_", "CUBLAS_", "NVIDIA_", "NCCL_", "NVSHMEM_", "HF_", "HUGGINGFACE_",
  "SEMPRESS_", "TORCH_", "PYTORCH_", "TRANSFORMERS_", "TOKENIZERS_", "XDG_",
];

/** True when the sidecar may see the variable `name`. */
export function allowedInSidecar(name: string): boolean {
  return NAMES.has(name) || PREFIXES.some((p) => name.startsWith(p));
}

/** The allow-listed subset of `base` (undefined values dropped). */
export function sidecarEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && allowedInSidecar(k)) out[k] = v;
  return out;
}
