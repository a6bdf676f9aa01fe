"""What /brand does: show, fill, clear and lock a channel's brand kit.

Changes are announced in the channel (they change what everyone's /imagine
makes there); ``/brand`` alone answers privately. Only channel members may
change a kit, and only admins when it is locked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot import messages
from bot.brand import BrandKit, load_kit, update_kit
from bot.context import WorkerContext
from bot.errors import BrandRefused
from bot.flows.photo_io import locate_photos
from bot.jobs import Job
from bot.settings import model_for
from bot.slack.io import Upload
from bot.slack.photo_refs import Photo
from handlers.logo import prepare_logo
from handlers.model_table import Role
from handlers.requests import BrandRequest
from handlers.style_guide import prepare_style_reference

# A change to a kit, applied to the kit as it is when the change is stored.
KitChange = Callable[[BrandKit], BrandKit]


def run_brand(job: Job, ctx: WorkerContext) -> None:
    """/brand: answer with the kit, or change it and say so in the channel."""
    request = BrandRequest(**job.request)
    kit = load_kit(ctx.store, job.team_id, job.channel_id)
    if request.action == "show":
        ctx.slack.tell(job, messages.brand_kit(kit))
        return
    _check_may_change(job, ctx, request, kit)
    uploads = request.action == "style" or (request.action == "logo" and not request.logo_mode)
    if request.action == "style":
        change = _store_style(job, ctx)
    elif uploads:
        change = _store_logo(job, ctx, kit)
    else:
        change = _setting_change(request)

    def checked(current: BrandKit) -> BrandKit:
        # The kit may have been locked while a logo or style was being uploaded.
        _check_lock(job, ctx, request, current)
        return replace(change(current), changed_by=job.user_id)

    kit = update_kit(ctx.store, job.team_id, job.channel_id, checked)
    if not uploads:  # an upload is announced by its own comment
        ctx.slack.post(job.channel_id, messages.brand_changed(job.user_id, request.action, kit))


def _check_may_change(job: Job, ctx: WorkerContext, request: BrandRequest, kit: BrandKit) -> None:
    """Admins may do anything; others only change an unlocked kit of a channel they are in."""
    _check_lock(job, ctx, request, kit)
    if job.user_id not in ctx.settings.admins and not ctx.slack.is_member(job.channel_id, job.user_id):
        raise BrandRefused("not_member", tuple(sorted(ctx.settings.admins)))


def _check_lock(job: Job, ctx: WorkerContext, request: BrandRequest, kit: BrandKit) -> None:
    """Only admins lock, unlock, or change a locked kit."""
    if job.user_id in ctx.settings.admins:
        return
    admins = tuple(sorted(ctx.settings.admins))
    if request.action in ("lock", "unlock"):
        raise BrandRefused("admin_only", admins)
    if kit.locked:
        raise BrandRefused("locked", admins)


def _newest_photo(job: Job, ctx: WorkerContext) -> tuple[Photo, bytes]:
    finder = ctx.slack.photos()
    photo = locate_photos(job, finder)[0]
    return photo, finder.download(photo)


def _store_style(job: Job, ctx: WorkerContext) -> KitChange:
    """The newest photo, checked and sized for Style Guide, uploaded once as the channel's style reference."""
    model_id = model_for(ctx.settings, Role.STYLE)  # the Amazon stack has none: say so before anything else
    photo, data = _newest_photo(job, ctx)
    reference = prepare_style_reference(data, model_id)
    [file_id] = ctx.slack.upload(job.channel_id, photo.thread_ts, [Upload(
        content=reference.data, filename=f"brand-style.{reference.format}", title="Brand style",
        alt_text=messages.brand_alt_text("style", photo.name),
    )], comment=messages.brand_style_set(job.user_id))
    return lambda kit: replace(kit, style_file=file_id, style_name=photo.name)


def _store_logo(job: Job, ctx: WorkerContext, kit: BrandKit) -> KitChange:
    """The newest image, checked and trimmed to an RGBA PNG, uploaded once as the channel's logo."""
    photo, data = _newest_photo(job, ctx)
    logo = prepare_logo(data)
    [file_id] = ctx.slack.upload(job.channel_id, photo.thread_ts, [Upload(
        content=logo.png, filename="brand-logo.png", title="Brand logo",
        alt_text=messages.brand_alt_text("logo", photo.name),
    )], comment=messages.brand_logo_set(job.user_id, _logo_always(kit), logo.transparent))
    return lambda current: replace(current, logo_file=file_id, logo_name=photo.name,
                                   logo_always=_logo_always(current))


def _logo_always(kit: BrandKit) -> bool:
    # A kit's first logo goes on every /imagine image, as someone adding a logo expects; a new logo
    # keeps the choice the channel made since (``/brand logo=optional``).
    return kit.logo_always if kit.logo_file else True


def _setting_change(request: BrandRequest) -> KitChange:
    """``clear``, ``lock``, ``unlock`` or ``logo=always|optional``."""
    def change(kit: BrandKit) -> BrandKit:
        if request.action == "clear":
            return BrandKit(locked=kit.locked)
        if request.action in ("lock", "unlock"):
            return replace(kit, locked=request.action == "lock")
        if not kit.logo_file:
            raise BrandRefused("no_logo")
        return replace(kit, logo_always=request.logo_mode == "always")

    return change
