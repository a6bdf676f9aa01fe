"""What ``python -m bot run`` says on the terminal before a command reaches its flow."""

from __future__ import annotations

from collections.abc import Iterable


def unknown_command(name: str, known: Iterable[str]) -> str:
    """The command is not one Studio has."""
    return f"Unknown command /{name}. Studio's commands: {', '.join('/' + each for each in known)}."


def slack_only(name: str) -> str:
    """A command about a Slack channel itself, run on the terminal."""
    return f"/{name} keeps a Slack channel's brand kit, so it runs only in Slack; try the other commands here."


def needs_image(name: str) -> str:
    """A photo command was run without a photo."""
    return f"/{name} works on a photo: add --image photo.jpg (several --image for a batch or a mask)."


def too_many_images(name: str, count: int, takes_zip: bool) -> str:
    """More ``--image`` files than the command uses."""
    uses = "a photo and its mask" if name == "edit" else "one photo"
    batch = "; for a batch, give a ZIP of the photos (--image photos.zip)" if takes_zip else ""
    return f"/{name} uses {uses}, not {count}{batch}."


def zip_alone(name: str) -> str:
    """A ZIP given beside other ``--image`` files."""
    return f"A ZIP is a batch of its own: give a ZIP alone (/{name} --image photos.zip), or the photos without it."


def takes_no_image(name: str) -> str:
    """``--image`` given to a command that makes images from words only."""
    return f"/{name} makes new images from words; --image is for the photo commands."


def unreadable_image(path: str, reason: str) -> str:
    """An ``--image`` file that cannot be read."""
    return f"Cannot read the image {path}: {reason}."


def report(command: str, images: Iterable[str], lines: Iterable[str], files: Iterable[str]) -> str:
    """The report written beside the results: what was asked, what was said, which files were written."""
    given = ", ".join(images) or "none"
    written = "\n".join(f"  {name}" for name in files) or "  none"
    return f"command: {command}\nimages: {given}\n\n" + "\n".join(lines) + f"\n\nfiles written:\n{written}\n"
