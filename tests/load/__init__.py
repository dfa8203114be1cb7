"""``make load``: the dashboard's first screen under concurrent users (locust, headless)."""
