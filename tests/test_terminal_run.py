"""``python -m bot run``: every command's flow against (fake) Bedrock, without Slack."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.__main__ import main
from tests.fakes.bedrock import FakeBedrock
from tests.photos import small_jpeg


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bedrock: FakeBedrock) -> Path:
    """A folder to run in, with Bedrock's endpoint pointed at the fake and no .env to read."""
    for name, value in bedrock.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STUDIO_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "car.jpg").write_bytes(small_jpeg())
    return tmp_path


def pngs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.png"))


@pytest.mark.parametrize(("text", "suffix", "model"), [
    ("/replace-bg keep=car beach at sunset", "new-background", "stable-image-inpaint"),
    ("/edit mask=car a blue truck", "edited", "stable-image-search-replace"),
    ("/extend ar=9:16 city street at dusk", "extended", "stable-outpaint"),
    ("/remove-bg", "cutout", "stable-image-remove-background"),
    ("/upscale", "upscaled", "stable-fast-upscale"),
])
def test_each_photo_command_writes_its_result_and_a_report(
        cli: Path, bedrock: FakeBedrock, capsys: pytest.CaptureFixture[str], text: str, suffix: str,
        model: str) -> None:
    assert main(["run", text, "--image", "car.jpg", "--out", "out"]) == 0
    [result] = pngs(cli / "out")
    assert result.name == f"car-{suffix}-1.png"
    Image.open(result).verify()  # a real image, as the model answered it
    assert any(model in call.model_id and call.ok for call in bedrock.invocations())
    out, err = capsys.readouterr()
    assert "Working…" in err  # the progress line the flow would post in Slack
    assert str(Path("out") / result.name) in out
    report = (cli / "out" / "report.txt").read_text()
    assert text in report and "images: car.jpg" in report and result.name in report


def test_edit_takes_a_second_image_as_its_mask(cli: Path, bedrock: FakeBedrock) -> None:
    mask = Image.new("L", (800, 600), 255)
    mask.paste(0, (200, 150, 600, 450))
    mask.save(cli / "mask.png")
    assert main(["run", "/edit a bowl of black beans", "--image", "car.jpg", "--image", "mask.png",
                 "--out", "out"]) == 0
    assert [path.name for path in pngs(cli / "out")] == ["car-edited-1.png"]
    [call] = bedrock.invocations()
    assert "stable-image-inpaint" in call.model_id and call.body.get("mask")


def test_edit_without_a_mask_says_how_to_give_one(cli: Path, bedrock: FakeBedrock,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "/edit a truck", "--image", "car.jpg", "--out", "out"]) == 1
    assert "mask=" in capsys.readouterr().out
    assert pngs(cli / "out") == [] and bedrock.invocations() == []


def test_several_images_are_a_batch_with_its_csv_report(cli: Path, bedrock: FakeBedrock) -> None:
    (cli / "van.jpg").write_bytes(small_jpeg(640, 480))
    assert main(["run", "/replace-bg keep=car beach", "--image", "car.jpg", "--image", "van.jpg",
                 "--out", "out"]) == 0
    assert [path.name for path in pngs(cli / "out")] == ["car-new-background-1.png", "replace-bg-contact-sheet.png",
                                                         "van-new-background-1.png"]
    rows = list(csv.DictReader(io.StringIO((cli / "out" / "replace-bg-report.csv").read_text())))
    assert sorted((row["photo"], row["outcome"]) for row in rows) == [("car.jpg", "done"), ("van.jpg", "done")]
    assert "2 of 2 photos" in (cli / "out" / "report.txt").read_text()


def test_a_batch_with_a_failed_photo_exits_1(cli: Path, bedrock: FakeBedrock) -> None:
    """Regression: a batch exited 0 even when every photo failed, so a script could not tell."""
    from tests.test_catalogue_zip import PDF, zip_of

    (cli / "broken.jpg").write_bytes(small_jpeg()[:400])
    assert main(["run", "/replace-bg keep=car beach", "--image", "car.jpg", "--image", "broken.jpg",
                 "--out", "out"]) == 1
    (cli / "shoot.zip").write_bytes(zip_of({"shoe.jpg": small_jpeg(), "spec.pdf": PDF}))
    assert main(["run", "/remove-bg", "--image", "shoot.zip", "--out", "out"]) == 0, "a skipped file is no failure"
    torn = small_jpeg()[:len(small_jpeg()) // 2]  # a photo by its header, that fails to decode
    (cli / "shoot.zip").write_bytes(zip_of({"shoe.jpg": small_jpeg(), "torn.jpg": torn}))
    assert main(["run", "/remove-bg", "--image", "shoot.zip", "--out", "out"]) == 1


def test_describe_prints_the_answer_and_keeps_it_in_the_report(
        cli: Path, bedrock: FakeBedrock, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "/describe alt", "--image", "car.jpg", "--out", "out"]) == 0
    [call] = bedrock.converse_calls()
    out = capsys.readouterr().out
    assert "1 image received (800x600" in out  # the fake Claude's answer
    assert "1 image received (800x600" in (cli / "out" / "report.txt").read_text()


def test_imagine_prints_every_seed(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "/imagine a red car n=3 seed=7", "--out", "out"]) == 0
    assert [path.name for path in pngs(cli / "out")] == [f"studio-{seed}-{n}.png" for n, seed in
                                                          ((1, 7), (2, 8), (3, 9))]
    assert "seeds 7, 8, 9" in capsys.readouterr().out


def test_a_second_run_never_overwrites_results(cli: Path) -> None:
    for _ in range(2):
        assert main(["run", "/remove-bg", "--image", "car.jpg", "--out", "out"]) == 0
    assert [path.name for path in pngs(cli / "out")] == ["car-cutout-1-2.png", "car-cutout-1.png"]


def test_a_file_that_is_not_an_image_is_explained(cli: Path, capsys: pytest.CaptureFixture[str],
                                                 bedrock: FakeBedrock) -> None:
    (cli / "notes.txt").write_text("hello")
    assert main(["run", "/remove-bg", "--image", "notes.txt", "--out", "out"]) == 1
    assert "not an image" in capsys.readouterr().out
    assert bedrock.invocations() == []


def test_a_web_page_saved_as_jpg_is_not_blamed_on_slack(cli: Path, capsys: pytest.CaptureFixture[str],
                                                        bedrock: FakeBedrock) -> None:
    """A local file is never Slack's login page (regression: "Studio is missing the files:read permission")."""
    (cli / "page.jpg").write_text("<!DOCTYPE html><html><body>Sign in</body></html>")
    assert main(["run", "/remove-bg", "--image", "page.jpg", "--out", "out"]) == 1
    out = capsys.readouterr().out
    assert "`page.jpg` is not an image" in out and "files:read" not in out, out
    assert bedrock.invocations() == []


def test_model_refusal_is_told_not_crashed(cli: Path, bedrock: FakeBedrock,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bedrock.fail_next(1, "ValidationException", "The provided model identifier is invalid.")
    assert main(["run", "/remove-bg", "--image", "car.jpg", "--out", "out"]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out and pngs(cli / "out") == []
    assert out.strip().splitlines()[-1].endswith("report.txt")


@pytest.mark.parametrize(("args", "words"), [
    (["/replace-bg beach"], "/replace-bg works on a photo: add --image"),
    (["/imagine a car", "--image", "car.jpg"], "--image is for the photo commands"),
    (["/frobnicate x", "--image", "car.jpg"], "Unknown command /frobnicate. Studio's commands: /imagine,"),
    (["/variations", "--image", "car.jpg"], "Unknown command /variations"),  # a button, not a command
    # Regression: the photos after the first were dropped without a word (exit 0) where a command uses one.
    (["/remove-bg", "--image", "car.jpg", "--image", "car.jpg"], "/remove-bg uses one photo, not 2;"),
    (["/formats", "--image", "car.jpg", "--image", "car.jpg"], "for a batch, give a ZIP of the photos"),
    (["/edit a truck", "--image", "car.jpg", "--image", "car.jpg", "--image", "car.jpg"],
     "/edit uses a photo and its mask, not 3."),  # no ZIP batch for /edit
    (["/replace-bg keep=car beach", "--image", "car.jpg", "--image", "season.zip"], "give a ZIP alone"),
    # Regression: /brand asked for --image, then called Slack and said "Slack did not accept the result".
    (["/brand"], "/brand keeps a Slack channel's brand kit, so it runs only in Slack"),
    (["/brand style", "--image", "car.jpg"], "/brand keeps a Slack channel's brand kit"),
    (["/describe", "--image", "missing.jpg"], "Cannot read the image missing.jpg: No such file or directory"),
])
def test_misuse_is_explained_before_anything_runs(cli: Path, bedrock: FakeBedrock,
                                                  capsys: pytest.CaptureFixture[str], args: list[str],
                                                  words: str) -> None:
    (cli / "season.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty ZIP
    assert main(["run", *args, "--out", "out"]) == 2
    assert words in capsys.readouterr().err
    assert bedrock.calls == [] and not (cli / "out").exists()


def test_usage_errors_and_help_never_reach_bedrock(cli: Path, bedrock: FakeBedrock,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "/replace-bg kep=car beach", "--image", "car.jpg"]) == 1
    assert "Did you mean `keep=`?" in capsys.readouterr().err
    assert main(["run", "/upscale help", "--image", "car.jpg"]) == 0
    assert "mode=fast|conservative|creative" in capsys.readouterr().err
    assert bedrock.calls == []


@pytest.mark.parametrize("command", ["/upscale help", "/replace-bg help", "/describe help"])
def test_help_of_a_photo_command_needs_no_photo(cli: Path, bedrock: FakeBedrock,
                                                capsys: pytest.CaptureFixture[str], command: str) -> None:
    """The README: "`/upscale help` prints the usage" (regression: it asked for --image first, exit 2)."""
    assert main(["run", command, "--out", "out"]) == 0
    err = capsys.readouterr().err
    assert "Example: `" + command.split()[0] in err and "--image" not in err, err
    assert bedrock.calls == [] and not (cli / "out").exists()


def test_missing_aws_credentials_are_explained(cli: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(cli / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cli / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["run", "/remove-bg", "--image", "car.jpg"]) == 2
    assert "No AWS credentials found" in capsys.readouterr().err


def test_formats_writes_each_format_at_its_exact_size(cli: Path, bedrock: FakeBedrock) -> None:
    (cli / "shoe.jpg").write_bytes(small_jpeg(1600, 1200))
    assert main(["run", "/formats story,banner", "--image", "shoe.jpg", "--out", "out"]) == 0
    sizes = {path.name: Image.open(path).size for path in pngs(cli / "out")}
    assert sizes == {"shoe-story-1080x1920.png": (1080, 1920), "shoe-banner-1584x396.png": (1584, 396)}


def test_a_zip_of_photos_runs_as_a_catalogue_batch(cli: Path, bedrock: FakeBedrock) -> None:
    """The acceptance ZIP of the catalogue issue, without Slack: a JPEG runs, a PDF and a path escape are skipped."""
    from tests.test_catalogue_zip import PDF, zip_of

    bedrock.converse_answer = "sneaker"
    (cli / "season.zip").write_bytes(zip_of({"shoe.jpg": small_jpeg(), "spec.pdf": PDF,
                                              "../../etc/passwd": b"root:x:0:0"}))
    assert main(["run", "/replace-bg keep=auto studio backdrop", "--image", "season.zip", "--out", "out"]) == 0
    out = cli / "out"
    with zipfile.ZipFile(out / "season-results.zip") as results:
        assert [name for name in results.namelist() if name.endswith(".png")] == ["shoe-new-background-1.png"]
    report = (out / "season-report.csv").read_text(encoding="utf-8-sig")
    rows = {row["photo"]: row for row in csv.DictReader(io.StringIO(report))}
    assert rows["shoe.jpg"]["outcome"] == "done" and rows["shoe.jpg"]["subject"] == "sneaker"
    assert {rows[name]["outcome"] for name in ("spec.pdf", "../../etc/passwd")} == {"skipped"}
    assert rows["spec.pdf"]["reason"].startswith("not a photo")
    assert rows["../../etc/passwd"]["reason"].startswith("unsafe name"), "the report words each reason"
    assert (out / "season-contact-sheet.png").exists()
    assert not (cli.parent / "etc").exists() and not (out.parent / "etc").exists()
