"""`make bench`: the real CLI against a local OpenAI-compatible fake, timed (see bench/__main__.py)."""
