"""The AppFlow service model, as installed with botocore: the only schema.

Everything here is derived from the botocore service-model JSON, loaded on first use (never at
import): operations and their HTTP routes, error codes and statuses, compiled request/response
validators, response pruning for older models, and a JSON Schema export. ``errors.py`` holds the
errors every layer raises.
"""
