"""The released seed-era package's module paths (`mxnet-model-server` 0.1.x), for service files
written against them: each module is the same code as its `dms` counterpart."""
