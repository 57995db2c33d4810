"""The flow-execution simulator (clock now; sources, tasks and sinks come with the simulator issue)."""
