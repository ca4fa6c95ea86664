"""A tiny token-in, token-out echo engine: the stand-in for an inference engine in dynamo-image's
examples and tests. Standard library only."""

__version__ = "0.1.0"
