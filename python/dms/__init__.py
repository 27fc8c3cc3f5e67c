"""The Python side of Deep Model Server's custom services: the base classes and helpers a service
file imports (the seed's `dms.*` API) and the worker process that runs a service for the server
(`python -m dms.worker`)."""
