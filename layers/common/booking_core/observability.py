"""Logger, tracer and metrics: one instance each per process, configured from the environment."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
