"""What /brand does: show, fill, clear and lock a channel's brand kit.

Changes are announced in the channel (they change what everyone's /imagine
makes there); ``/brand`` alone answers privately. Only channel members may
change a kit, and only admins when it is locked.
"""

from __future__ import annotations

from dataclasses import replace

from bot import messages
from bot.brand import BrandKit, load_kit, save_kit
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


def run_brand(job: Job, ctx: WorkerContext) -> None:
    """/brand: answer with the kit, or change it and say so in the channel."""
    request = BrandRequest(**job.request)
    kit = load_kit(ctx.store, job.team_id, job.channel_id)
    if request.action == "show":
        ctx.slack.tell(job, messages.brand_kit(kit))
        return
    _check_may_change(job, ctx, request, kit)
    if request.action == "style":
        kit = _store_style(job, ctx, kit)
    elif request.action == "logo" and not request.logo_mode:
        kit = _store_logo(job, ctx, kit)
    else:
        kit = _change_setting(job, ctx, request, kit)
    save_kit(ctx.store, job.team_id, job.channel_id, replace(kit, changed_by=job.user_id))


def _check_may_change(job: Job, ctx: WorkerContext, request: BrandRequest, kit: BrandKit) -> None:
    """Admins may do anything; others only change an unlocked kit of a channel they are in."""
    admins = tuple(sorted(ctx.settings.admins))
    if job.user_id in ctx.settings.admins:
        return
    if request.action in ("lock", "unlock"):
        raise BrandRefused("admin_only", admins)
    if kit.locked:
        raise BrandRefused("locked", admins)
    if not ctx.slack.is_member(job.channel_id, job.user_id):
        raise BrandRefused("not_member", admins)


def _newest_photo(job: Job, ctx: WorkerContext) -> tuple[Photo, bytes]:
    finder = ctx.slack.photos()
    photo = locate_photos(job, finder)[0]
    return photo, finder.download(photo)


def _store_style(job: Job, ctx: WorkerContext, kit: BrandKit) -> BrandKit:
    """The newest photo, checked and sized for Style Guide, uploaded once as the channel's style reference."""
    model_id = model_for(ctx.settings, Role.STYLE)  # the Amazon stack has none: say so before anything else
    photo, data = _newest_photo(job, ctx)
    reference = prepare_style_reference(data, model_id)
    [file_id] = ctx.slack.upload(job.channel_id, photo.thread_ts, [Upload(
        content=reference.data, filename=f"brand-style.{reference.format}", title="Brand style",
        alt_text=messages.brand_alt_text("style", photo.name),
    )], comment=messages.brand_style_set(job.user_id))
    return replace(kit, style_file=file_id, style_name=photo.name)


def _store_logo(job: Job, ctx: WorkerContext, kit: BrandKit) -> BrandKit:
    """The newest image, checked and trimmed to an RGBA PNG, uploaded once as the channel's logo."""
    photo, data = _newest_photo(job, ctx)
    logo = prepare_logo(data)
    # A kit's first logo goes on every /imagine image, as someone adding a logo expects; a new logo
    # keeps the choice the channel made since (``/brand logo=optional``).
    always = kit.logo_always if kit.logo_file else True
    [file_id] = ctx.slack.upload(job.channel_id, photo.thread_ts, [Upload(
        content=logo.png, filename="brand-logo.png", title="Brand logo",
        alt_text=messages.brand_alt_text("logo", photo.name),
    )], comment=messages.brand_logo_set(job.user_id, always, logo.transparent))
    return replace(kit, logo_file=file_id, logo_name=photo.name, logo_always=always)


def _change_setting(job: Job, ctx: WorkerContext, request: BrandRequest, kit: BrandKit) -> BrandKit:
    """``clear``, ``lock``, ``unlock`` or ``logo=always|optional``, announced in the channel."""
    if request.action == "clear":
        kit = BrandKit(locked=kit.locked)
    elif request.action in ("lock", "unlock"):
        kit = replace(kit, locked=request.action == "lock")
    else:
        if not kit.logo_file:
            raise BrandRefused("no_logo")
        kit = replace(kit, logo_always=request.logo_mode == "always")
    ctx.slack.post(job.channel_id, messages.brand_changed(job.user_id, request.action, kit))
    return kit
