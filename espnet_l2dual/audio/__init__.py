"""Audio samples: reading any wav.scp value, resampling (shared by stage 3, decoding and analysis)."""
