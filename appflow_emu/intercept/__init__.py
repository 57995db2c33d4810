"""The botocore hook and the request -> operation -> handler -> response path."""
