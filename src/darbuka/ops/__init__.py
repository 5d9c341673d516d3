"""Operating a server: Prometheus metrics, request ids at the door, the metrics port."""
