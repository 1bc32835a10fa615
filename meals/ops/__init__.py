"""Operations: structured logs with a request id, and Prometheus metrics."""
