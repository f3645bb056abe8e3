"""paper-digest: Hugging Face Daily Papers → an enriched Korean Jekyll/Chirpy post."""

__version__ = "0.1.0"
