"""Cross-language reports (run_all.sh)."""
