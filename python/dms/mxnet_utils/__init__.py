"""Helpers for services, as the seed's `mxnet_utils` offered them."""
