"""Decoding a trained dual model: loading it, beam search per output, packing it for sharing."""
