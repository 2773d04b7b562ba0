"""Uploaded documents: checks on the bytes (active PDFs refused, images encoded afresh), storage through
the document store (local disk or S3), who may open them, and the sweep of files without a row. Calls
cases/ (access, the unit of work) and audit/.
"""

from .file_checks import accepted_formats, megabytes
from .previews import page_counts, page_picture
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
    upload_limit,
)

__all__ = [
    "accepted_formats",
    "megabytes",
    "page_counts",
    "page_picture",
    "upload_limit",
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
