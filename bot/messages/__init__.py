"""Every sentence Studio says to a person, in one voice, split by topic.

``usage`` (help, bad command text, how-tos), ``progress`` (while working and the
results), ``errors`` (the error registry), ``admin`` (models an admin must fix),
``markup`` (making text safe for Slack). Callers use ``from bot import messages``.

``errors``, ``admin`` and ``brand`` load on first use (``_LAZY``): the ingress
acks most requests with ``working`` and never needs the brand or admin words,
and the error registry (with what it imports) is ~4-5 ms of its cold import.
The ingress's SnapStart hook imports them before the snapshot
(``bot.runtime.lambda_ingress.FIRST_USE_MODULES``), so a restored environment
has them; without SnapStart the first error answer pays those milliseconds once.
"""

import importlib
from typing import TYPE_CHECKING, Any

from bot.messages.markup import escape, quote
from bot.messages.progress import (
    alt_text,
    batch_done,
    batch_progress,
    batch_started,
    batch_stopped,
    contact_sheet_alt,
    describe_answer,
    describe_started,
    edit_alt_text,
    edit_started,
    edit_summary,
    enhancing,
    format_alt_text,
    formats_started,
    formats_summary,
    generation_summary,
    imagine_extras,
    imagine_started,
    interrupted,
    interrupted_line,
    job_label,
    progress_text,
    replace_started,
    replace_summary,
    replaced_alt_text,
    retrying,
    sheet_outcome,
    skipped_reason,
    zip_alt_started,
    zip_alt_texts_in_report,
    zip_done,
    zip_edit_started,
    zip_formats_started,
    zip_nothing_made,
    zip_queued,
    zip_reading,
    zip_replace_started,
    zip_results_attached,
    zip_results_link,
    zip_results_too_big,
    zip_sheet_shows_first,
)
from bot.messages.usage import (
    DESCRIBE_CHOICES,
    home_help,
    mention_help,
    usage,
    usage_problem,
    usage_today,
    working,
)

if TYPE_CHECKING:
    from bot.messages.admin import admin_model_unavailable, model_unavailable
    from bot.messages.brand import brand_alt_text, brand_changed, brand_kit, brand_logo_set, brand_style_set
    from bot.messages.errors import error_message, failure_reason, modal_failed, plain_reason, undelivered

# Each lazily loaded name and its submodule.
_LAZY = {
    **dict.fromkeys(("admin_model_unavailable", "model_unavailable"), "admin"),
    **dict.fromkeys(("brand_alt_text", "brand_changed", "brand_kit", "brand_logo_set", "brand_style_set"), "brand"),
    **dict.fromkeys(("error_message", "failure_reason", "modal_failed", "plain_reason", "undelivered"), "errors"),
}


def __getattr__(name: str) -> Any:
    """Load a lazily imported name's submodule on first use (PEP 562), then keep the name here."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DESCRIBE_CHOICES", "admin_model_unavailable", "alt_text", "batch_done", "batch_progress", "batch_started",
    "batch_stopped",
    "progress_text",
    "brand_alt_text", "brand_changed", "brand_kit", "brand_logo_set", "brand_style_set", "contact_sheet_alt",
    "describe_answer", "describe_started", "edit_alt_text", "edit_started", "edit_summary", "enhancing",
    "error_message", "escape", "failure_reason", "format_alt_text", "formats_started", "formats_summary",
    "generation_summary", "home_help", "imagine_extras", "imagine_started", "interrupted", "interrupted_line",
    "job_label", "mention_help", "modal_failed", "model_unavailable", "plain_reason", "quote", "replace_started",
    "replace_summary", "replaced_alt_text", "retrying", "sheet_outcome", "undelivered", "usage", "usage_problem",
    "usage_today", "working", "zip_alt_started", "zip_alt_texts_in_report", "zip_done", "zip_edit_started",
    "zip_formats_started", "zip_nothing_made", "zip_queued", "zip_reading", "zip_replace_started",
    "zip_results_attached", "zip_results_link", "zip_results_too_big",
    "skipped_reason",
    "zip_sheet_shows_first",
]
