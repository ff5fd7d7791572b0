"""Command-line applications: argument parsing and dispatch to the engine, the window and the scanners."""
