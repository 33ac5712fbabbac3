"""Tensors on the wire: one Arrow IPC stream, one record batch, one flat column "data".

Schema metadata: b"shape" = JSON list of dims, b"dtype" = float32 | float16 | bfloat16 | int32 | int64.
bfloat16 travels as its raw uint16 bit pattern (Arrow has no bf16 type) and is widened on the TS side.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

_NP_OF = {
    "float32": np.float32,
    "float16": np.float16,
    "int32": np.int32,
    "int64": np.int64,
    "bfloat16": np.uint16,
}


def _to_numpy(t: Any) -> tuple[np.ndarray, str]:
    """A contiguous numpy array plus its wire dtype tag (bf16 torch tensors become raw uint16)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is always installed in the venv
        torch = None  # type: ignore[assignment]
    if torch is not None and isinstance(t, torch.Tensor):
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            return t.view(torch.int16).numpy().view(np.uint16), "bfloat16"
        if t.dtype == torch.float64:
            t = t.float()
        elif t.dtype in (torch.int8, torch.int16, torch.uint8, torch.bool):
            t = t.to(torch.int32)
        arr = t.numpy()
    else:
        arr = np.asarray(t)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        elif arr.dtype in (np.int8, np.int16, np.uint8, np.bool_):
            arr = arr.astype(np.int32)
    tag = str(arr.dtype)
    if tag not in _NP_OF or tag == "bfloat16":
        raise TypeError(f"cannot encode tensor of dtype {arr.dtype}")
    return np.ascontiguousarray(arr), tag


def encode_tensor(t: Any) -> bytes:
    """torch or numpy tensor → Arrow IPC stream bytes."""
    arr, tag = _to_numpy(t)
    shape = list(arr.shape)
    col = pa.array(arr.reshape(-1))
    schema = pa.schema([pa.field("data", col.type)], metadata={b"shape": json.dumps(shape).encode(), b"dtype": tag.encode()})
    batch = pa.record_batch([col], schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def decode_tensor_numpy(data: bytes) -> tuple[np.ndarray, str]:
    """Arrow IPC stream bytes → (numpy array with the recorded shape, dtype tag). bf16 stays raw uint16."""
    reader = pa.ipc.open_stream(pa.py_buffer(data))
    meta = reader.schema.metadata or {}
    if b"shape" not in meta or b"dtype" not in meta:
        raise ValueError("tensor stream lacks shape/dtype metadata")
    shape = json.loads(meta[b"shape"].decode())
    tag = meta[b"dtype"].decode()
    if tag not in _NP_OF:
        raise ValueError(f"unknown tensor dtype tag {tag!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ValueError(f"bad tensor shape {shape!r}")
    table = reader.read_all()
    if table.num_columns != 1 or table.column_names[0] != "data":
        raise ValueError("tensor stream must have exactly one column named 'data'")
    flat = table.column(0).to_numpy(zero_copy_only=False).astype(_NP_OF[tag], copy=False)
    n = int(np.prod(shape)) if shape else 1
    if flat.size != n:
        raise ValueError(f"tensor has {flat.size} values but shape {shape} needs {n}")
    return flat.reshape(shape), tag


def decode_tensor(data: bytes) -> Any:
    """Arrow IPC stream bytes → torch tensor (bfloat16 restored from its raw bits)."""
    import torch

    arr, tag = decode_tensor_numpy(data)
    if tag == "bfloat16":
        return torch.from_numpy(arr.astype(np.uint16).view(np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(arr.copy())
