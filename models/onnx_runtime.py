"""ONNX Runtime sessions as this project runs them on a CPU (numpy only: no torch)."""

from __future__ import annotations


def onnx_session(model: bytes | str, threads: int):
    """A CPU session (from bytes or a file path) with ``threads`` intra-op threads, one inter-op thread, and
    threads that sleep when idle: spinning would take the cores the capture and face threads need."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
