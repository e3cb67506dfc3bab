"""The Lambda service's side of each event source: pollers, the async queue, routers (one module per source)."""
