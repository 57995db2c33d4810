"""Tests of the aws/ ports against moto and a moto_server."""
