"""The feed's upstreams: thin wrappers that fetch and hand payloads to the parsers."""
