"""Rank the day's papers: most upvoted first, ties by id. (agent.clean already left one paper per id.)"""

from __future__ import annotations

from collections.abc import Sequence

from agent.models import Paper


def rank_papers(papers: Sequence[Paper], top_n: int = 0) -> list[Paper]:
    """Most upvoted first, ties by id; ``top_n`` 0 = all."""
    ranked = sorted(papers, key=lambda p: (-p.upvotes, p.id))
    return ranked[:top_n] if top_n > 0 else ranked
