"""What a process tells its operators: structured logs and Prometheus metrics."""

__all__ = ["logs", "metrics"]
