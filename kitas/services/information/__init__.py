"""The public information pages, generated from data: each type's page (catalog, deployed diagram and
forms, fee table), the guide "which KITAS do I need?" and the FAQ. Calls fees, deployments, documents.
"""

from .faq import FaqAnswer, FaqPage, faq_page, faq_values
from .guide import GuidePage, guide_page
from .types import TypePage, sponsor_rule, startable_types, type_overview, type_page

__all__ = [
    "FaqAnswer",
    "FaqPage",
    "GuidePage",
    "TypePage",
    "faq_page",
    "faq_values",
    "guide_page",
    "sponsor_rule",
    "startable_types",
    "type_overview",
    "type_page",
]
