"""The embedded-model registry agrees with the requirements files that install its chunks (no model loaded)."""
import re
from pathlib import Path

import pytest

from sempress_sidecar import embedded

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(embedded.MODELS))
def test_requirements_file_pins_exactly_the_chunk_packages(name):
    m = embedded.MODELS[name]
    pins = [ln.strip() for ln in (ROOT / m.requirement).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    parsed = [re.fullmatch(r"([A-Za-z0-9-]+)==([\w.]+)", p) for p in pins]
    assert all(parsed), pins
    # PyPI's dashes are the import name's underscores.
    assert [p.group(1).replace("-", "_") for p in parsed] == [f"{m.package_prefix}{i}" for i in range(1, m.parts + 1)]
    assert len({p.group(2) for p in parsed}) == 1, "every chunk of one model has the same version"


def test_aliases_and_default_name_registered_models():
    assert embedded.DEFAULT in embedded.MODELS
    assert set(embedded.ALIASES.values()) <= set(embedded.MODELS)
    assert embedded.lookup("default").name == embedded.DEFAULT
