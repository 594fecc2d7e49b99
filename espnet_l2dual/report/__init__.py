"""Rendering of the reports: stage 10's (stage10.py) and run_all's cross-language one; numbers come from
analysis.json and espnet_l2dual.analysis.study, words about differences from verdict.py."""
