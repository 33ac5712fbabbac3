"""sempress sidecar: one long-lived process serving forward passes of one causal LM over ZeroMQ."""

__version__ = "0.1.0"
