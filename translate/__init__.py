"""Translation: segmentation, model loading, engines, glossary and the pipeline."""

__version__ = "0.1.0"
