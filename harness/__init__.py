"""What the tests and the benchmarks share: a served `linli serve` to kill -9 and restart, the
reliability scenarios with their figures, and populations of a running Linli."""
