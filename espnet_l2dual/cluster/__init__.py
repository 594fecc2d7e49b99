"""Cluster job submission helpers (Slurm)."""
