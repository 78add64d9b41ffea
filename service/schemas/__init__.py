"""Pydantic schemas of every request and response of the HTTP API."""
