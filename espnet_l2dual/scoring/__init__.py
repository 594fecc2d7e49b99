"""Stage 9 scoring: CER/WER (+ JER for Korean, TER for token outputs) with sclite,
cross-checked with jiwer, and error rates per surface–meaning divergence bin."""
