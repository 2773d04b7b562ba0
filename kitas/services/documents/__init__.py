"""Uploaded documents: checks on the bytes, storage through the document store, and who may open
them. Calls cases/ (access, the unit of work) and audit/.
"""

from .uploads import (
    PreparedUploads,
    StoreResult,
    add_documents,
    document_store,
    documents_by_public_ids,
    open_document,
    prepare_uploads,
    store_uploads,
)

__all__ = [
    "PreparedUploads",
    "add_documents",
    "prepare_uploads",
    "StoreResult",
    "document_store",
    "documents_by_public_ids",
    "open_document",
    "store_uploads",
]
