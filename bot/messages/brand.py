"""What Studio says about a channel's brand kit."""

from __future__ import annotations

from bot.brand import BrandKit
from bot.messages.markup import escape


def brand_kit(kit: BrandKit) -> str:
    """The private answer to ``/brand``: what the kit holds and how it is used."""
    if kit.empty:
        return (":art: This channel has no brand kit yet. Post your style image and run `/brand style`; "
                "post your logo (a PNG keeps its transparency) and run `/brand logo`.")
    style = (f"*Style:* from `{escape(kit.style_name)}`; `/imagine` here draws in it (add `brand=off` to opt out)."
             if kit.style_file else "*Style:* none (`/brand style` with a newly posted image).")
    if kit.logo_file:
        when = ("on every `/imagine` image here (`logo=off` to leave it out)" if kit.logo_always else
                "with `/imagine … logo=on` (`/brand logo=always` puts it on every image)")
        logo = f"*Logo:* from `{escape(kit.logo_name)}`, {when}."
    else:
        logo = "*Logo:* none (`/brand logo` with a newly posted PNG)."
    lines = [":art: This channel's brand kit", style, logo]
    if kit.locked:
        lines.append(":lock: Locked: only Studio's admins can change it.")
    if kit.changed_by:
        lines.append(f"Last changed by <@{kit.changed_by}>.")
    return "\n".join(lines)


def brand_style_set(user_id: str) -> str:
    """Shown with the uploaded style reference."""
    return (f":art: <@{user_id}> made this the channel's brand style: `/imagine` here now draws in it "
            "(add `brand=off` to opt out).")


def brand_logo_set(user_id: str, always: bool, transparent: bool) -> str:
    """Shown with the uploaded logo."""
    when = ("on every `/imagine` image here" if always else
            "with `/imagine … logo=on` (`/brand logo=always` for every image)")
    note = "" if transparent else " It has no transparent background, so it shows as a rectangle."
    return f":art: <@{user_id}> set the channel's brand logo; it goes in a corner {when}.{note}"


def brand_changed(user_id: str, action: str, kit: BrandKit) -> str:
    """The channel's note for a change of setting."""
    if action == "clear":
        return f":art: <@{user_id}> cleared this channel's brand kit: `/imagine` here is unbranded again."
    if action == "lock":
        return f":lock: <@{user_id}> locked this channel's brand kit: only Studio's admins can change it now."
    if action == "unlock":
        return f":unlock: <@{user_id}> unlocked this channel's brand kit: channel members can change it again."
    if kit.logo_always:
        return f":art: <@{user_id}> put the brand logo on every `/imagine` image here (`logo=off` leaves it out)."
    return f":art: <@{user_id}> made the brand logo optional here: `/imagine … logo=on` adds it."


def brand_alt_text(what: str, name: str) -> str:
    """Alt text of the uploaded style reference or logo."""
    return f"Brand {what} of this channel, from {name}"[:1000]
