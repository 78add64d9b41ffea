"""FAISS inner-product search over item vectors, with per-query exclusion."""

from service.index.item_index import ItemIndex, SearchResult, build_item_index, choose_index_kind
from service.index.stored_index import load_item_index
from service.index.threads import limit_faiss_threads

__all__ = [
    "ItemIndex",
    "SearchResult",
    "build_item_index",
    "choose_index_kind",
    "limit_faiss_threads",
    "load_item_index",
]
