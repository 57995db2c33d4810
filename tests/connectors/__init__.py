"""Custom connectors written with AWS's custom-connector-sdk, used to test the emulator against real connector code."""
