"""Connector facts, entity catalogs, and the table of field types and task operators: data."""
