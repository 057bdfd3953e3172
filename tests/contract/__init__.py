"""Contract scenarios: the same assertions against the sandbox and, when configured, a real Moodle 4.5."""
