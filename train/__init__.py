"""Retraining noisefilter from labelled examples: formats, store, alignment, fitting, evaluation."""
