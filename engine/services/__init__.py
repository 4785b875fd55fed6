"""Services: the flows (ingest, count, publish) that the CLI, the API and the demo all call."""
