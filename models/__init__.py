"""The shipped model files: ``*.joblib`` with a ``*.manifest.json`` each, and MODEL_CARD.md.

A package only so that an installed noisefilter finds them (`filter.modelfile.models_dir`).
"""
