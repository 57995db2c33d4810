"""AWS's integration harness for custom connectors (custom_connector_integ_test), run against the emulator."""
