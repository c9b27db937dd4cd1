"""Compatibility with the tools zoo replaces: ``compat.sparsezoo`` answers code written for SparseZoo."""
