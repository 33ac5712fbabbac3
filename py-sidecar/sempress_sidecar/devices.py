"""``--device``: pin the sidecar process to a device before torch initialises CUDA (importing this never loads torch).

Forms (the TS side's ``--devices`` entries, src/rpc/devices.ts):
  * ``cpu``                  no GPU at all, even where some are visible
  * ``cuda:1``               one GPU: the process sees only it (as ``cuda:0``)
  * ``cuda:0+cuda:1``        several GPUs for one model, spread over them by accelerate's ``device_map``

Pinning goes through ``CUDA_VISIBLE_DEVICES``, which CUDA reads once, when it initialises: so a pinned process
cannot reach another GPU by accident, and every op's ``cuda`` means this process's own device. Indices count the
GPUs this process was started with: under ``CUDA_VISIBLE_DEVICES=4,5`` (a scheduler's allocation), ``cuda:1`` is
physical GPU 5.
"""
from __future__ import annotations

import os
import re
import sys
from typing import MutableMapping

_SPEC = re.compile(r"^(cpu|cuda:\d+(\+cuda:\d+)*)$")


class DeviceError(ValueError):
    """A --device value that cannot be honoured; the message names it."""


def visible_devices(spec: str, current: str | None) -> str:
    """The ``CUDA_VISIBLE_DEVICES`` value that pins a process to ``spec``, given the value it was started with."""
    if not _SPEC.match(spec):
        raise DeviceError(f"--device {spec!r}: expected cpu, cuda:N or cuda:N+cuda:M…")
    if spec == "cpu":
        return ""
    wanted = [int(part.split(":", 1)[1]) for part in spec.split("+")]
    if len(set(wanted)) != len(wanted):
        raise DeviceError(f"--device {spec!r} names a GPU twice")
    if current is None:
        return ",".join(str(i) for i in wanted)
    seen = [v.strip() for v in current.split(",") if v.strip()]
    for i in wanted:
        if i >= len(seen):
            raise DeviceError(f"--device {spec!r}: CUDA_VISIBLE_DEVICES={current!r} shows {len(seen)} GPU(s)")
    return ",".join(seen[i] for i in wanted)


def pin(spec: str | None, env: MutableMapping[str, str] = os.environ) -> str | None:
    """Set ``CUDA_VISIBLE_DEVICES`` for ``spec`` (None: leave the process as started). Returns the value set."""
    if spec is None:
        return None
    torch = sys.modules.get("torch")
    if torch is not None and getattr(torch.cuda, "is_initialized", lambda: False)():
        raise DeviceError(f"--device {spec!r}: CUDA is already initialised in this process; pin before it starts")
    value = visible_devices(spec, env.get("CUDA_VISIBLE_DEVICES"))
    env["CUDA_VISIBLE_DEVICES"] = value
    return value


def wants_cuda(spec: str | None) -> bool | None:
    """True for a cuda spec, False for cpu, None when no device was asked for (pick what is there)."""
    return None if spec is None else spec != "cpu"
