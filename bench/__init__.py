"""Benchmarks (make bench): generation, client and server, each beside the tool a user would pick instead."""
