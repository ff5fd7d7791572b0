"""Many streams from one streams.yaml: threads on one machine (default) or Ray across a cluster."""
