"""The e-permit: created by the step that issues a case (``issuance``, called by the case unit of work),
its PDF with the holder's photo and a QR code (``pdf``, ``downloads``), the public verification of its
signed token within a rate limit (``verification``, ``tokens``) and revocation by an admin (``revocation``).

This package's top imports only what the unit of work needs, so importing it from cases/ makes no cycle;
pages import the modules they use (``from kitas.services.permits import downloads``).
"""

from .issuance import ISSUED_STATUS, download_path, issue_for_case, permit_of_case, validity

__all__ = ["ISSUED_STATUS", "download_path", "issue_for_case", "permit_of_case", "validity"]
