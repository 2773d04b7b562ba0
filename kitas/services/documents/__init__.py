"""Uploaded documents: checks on the bytes (active PDFs refused, images encoded afresh), storage through
the document store (local disk or S3), who may open them, and the sweep of files without a row. Calls
cases/ (access, the unit of work) and audit/.
"""

from .store import document_store
from .sweep import SweepReport, run_sweep, sweep_orphan_files
from .uploads import (
    PreparedUploads,
    StoreResult,
    add_documents,
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
    "run_sweep",
    "store_uploads",
    "SweepReport",
    "sweep_orphan_files",
]
