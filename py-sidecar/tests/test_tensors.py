import json

import numpy as np
import pyarrow as pa
import pytest
import torch

from sempress_sidecar.tensors import decode_tensor, decode_tensor_numpy, encode_tensor


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32, torch.int64])
def test_round_trip_keeps_values_shape_and_dtype(dtype):
    t = (torch.arange(24) - 7).reshape(2, 3, 4).to(dtype)
    back = decode_tensor(encode_tensor(t))
    assert back.dtype == dtype and back.shape == t.shape
    assert torch.equal(back, t)


def test_bfloat16_travels_as_raw_uint16_bits():
    t = torch.tensor([[1.5, -2.25], [3.0e-3, 65280.0]], dtype=torch.bfloat16)
    data = encode_tensor(t)
    schema = pa.ipc.open_stream(pa.py_buffer(data)).schema
    assert schema.metadata[b"dtype"] == b"bfloat16"
    assert json.loads(schema.metadata[b"shape"]) == [2, 2]
    assert schema.field("data").type == pa.uint16()
    raw, tag = decode_tensor_numpy(data)
    assert tag == "bfloat16" and raw.dtype == np.uint16
    assert torch.equal(decode_tensor(data), t)


def test_stream_is_one_flat_column_named_data_in_row_major_order():
    t = np.arange(6, dtype=np.float32).reshape(2, 3)
    table = pa.ipc.open_stream(pa.py_buffer(encode_tensor(t))).read_all()
    assert table.column_names == ["data"]
    assert table.column(0).to_pylist() == [0, 1, 2, 3, 4, 5]


def test_scalar_and_empty_tensors_round_trip():
    assert decode_tensor(encode_tensor(torch.tensor(3.5))).item() == 3.5
    assert decode_tensor(encode_tensor(torch.zeros(0, 4))).shape == (0, 4)


def test_float64_is_narrowed_to_float32():
    raw, tag = decode_tensor_numpy(encode_tensor(np.array([1.0, 2.0])))
    assert tag == "float32" and raw.tolist() == [1.0, 2.0]


def test_shape_metadata_that_disagrees_with_the_data_is_rejected():
    col = pa.array(np.arange(5, dtype=np.float32))
    schema = pa.schema([pa.field("data", col.type)], metadata={b"shape": b"[2,3]", b"dtype": b"float32"})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as w:
        w.write_batch(pa.record_batch([col], schema=schema))
    with pytest.raises(ValueError, match="shape"):
        decode_tensor(sink.getvalue().to_pybytes())
