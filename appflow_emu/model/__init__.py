"""The AppFlow service model, as installed with botocore: the only schema.

Everything here is derived from the botocore service-model JSON at import of first use:
operations and their HTTP routes, error codes and statuses, compiled request/response
validators, and a JSON Schema export.
"""
from appflow_emu.model.service import (
    error_statuses,
    operation_names,
    route,
    service_model,
)

__all__ = ["error_statuses", "operation_names", "route", "service_model"]
