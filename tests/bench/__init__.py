"""Benchmarks: ``make bench`` prints figures (ratios, counts); nothing here is a test."""
