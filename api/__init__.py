"""The HTTP service: `create_app` in `api.app`, started by `noisefilter serve` (`api.server`).

See `api/README.md` for the endpoints, settings, limits and the load benchmark.
"""
