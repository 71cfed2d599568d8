"""Synthetic example images for the demo register, drawn with Pillow from a seed.

The pictures are shapes and noise that look like a modality at a glance (a CT slice, a
mammogram, a stained tissue tile, ...), never patient data. Each image is drawn once and
written atomically; the same seed always draws the same picture.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFilter

__all__ = [
    "CAPTIONS",
    "DRAWERS",
    "LEGACY_ASSETS",
    "THUMBNAIL_SIZE",
    "draw_legacy_assets",
    "example_images",
    "media_folder",
]

THUMBNAIL_SIZE = 320


def _noise(rng: random.Random, size: tuple[int, int], blur: float = 1.0) -> Image.Image:
    noise = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return noise.filter(ImageFilter.GaussianBlur(blur)) if blur else noise


def _ct_slice(rng: random.Random, head: bool = False) -> Image.Image:
    """An axial CT-like slice: body, lungs or brain, spine, a few lesions, and noise."""
    size = 512
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    if head:
        draw.ellipse((96, 60, 416, 452), fill=235)  # skull
        draw.ellipse((112, 78, 400, 434), fill=105)  # brain
        draw.ellipse((226, 200, 246, 300), fill=30)  # ventricles
        draw.ellipse((266, 200, 286, 300), fill=30)
    else:
        draw.ellipse((40, 110, 472, 420), fill=95)  # body
        draw.ellipse((60, 128, 452, 404), fill=110)  # soft tissue
        draw.ellipse((90, 150, 240, 360), fill=25)  # right lung
        draw.ellipse((272, 150, 422, 360), fill=25)  # left lung
        draw.ellipse((200, 200, 300, 300), fill=140)  # heart and vessels
        draw.ellipse((236, 340, 276, 384), fill=230)  # vertebra
    for _ in range(rng.randint(1, 4)):
        x, y, r = rng.randint(150, 360), rng.randint(180, 330), rng.randint(5, 16)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(120, 190))
    img = img.filter(ImageFilter.GaussianBlur(1.5))
    return Image.blend(img, _noise(rng, img.size), 0.12)


def _mr_brain(rng: random.Random) -> Image.Image:
    """An axial T2-like brain MR slice: dark skull, grey and white matter, bright fluid."""
    size = 512
    img = Image.new("L", (size, size), 5)
    draw = ImageDraw.Draw(img)
    draw.ellipse((92, 56, 420, 456), fill=150)  # scalp fat
    draw.ellipse((104, 70, 408, 442), fill=25)  # skull
    draw.ellipse((116, 84, 396, 428), fill=215)  # cerebrospinal fluid
    draw.ellipse((124, 92, 388, 420), fill=120)  # grey matter
    folds = _noise(rng, (size // 16, size // 16), 0).resize((size, size), Image.BICUBIC)
    white = Image.new("L", (size, size), 0)
    ImageDraw.Draw(white).ellipse((160, 130, 352, 382), fill=255)
    white = Image.composite(
        white, Image.new("L", (size, size), 0), folds.point(lambda v: 255 if v > 110 else 0)
    )
    img.paste(85, (0, 0), white.filter(ImageFilter.GaussianBlur(3)))
    draw.ellipse((222, 190, 248, 300), fill=225)  # lateral ventricles
    draw.ellipse((264, 190, 290, 300), fill=225)
    if rng.random() < 0.7:  # a lesion with surrounding oedema
        x, y = rng.randint(170, 340), rng.randint(140, 360)
        draw.ellipse((x - 30, y - 26, x + 30, y + 26), fill=190)
        draw.ellipse((x - 14, y - 12, x + 14, y + 12), fill=150)
    img = img.filter(ImageFilter.GaussianBlur(1.3))
    return Image.blend(img, _noise(rng, img.size), 0.08)


def _pet(rng: random.Random) -> Image.Image:
    """A PET-like coronal view: blurred body, bright organs and a few hot spots."""
    img = Image.new("L", (384, 512), 255)
    draw = ImageDraw.Draw(img)
    draw.ellipse((142, 20, 242, 120), fill=120)  # brain
    draw.rounded_rectangle((92, 120, 292, 480), radius=60, fill=225)
    draw.ellipse((210, 170, 262, 232), fill=150)  # heart
    draw.ellipse((150, 400, 234, 450), fill=90)  # bladder
    for _ in range(rng.randint(2, 5)):
        x, y, r = rng.randint(120, 260), rng.randint(150, 340), rng.randint(6, 14)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(20, 70))
    img = img.filter(ImageFilter.GaussianBlur(4))
    return Image.blend(img, _noise(rng, img.size, 2), 0.08)


def _radiograph(rng: random.Random) -> Image.Image:
    """An X-ray-like wrist: forearm bones, carpal bones and metacarpals on dark background."""
    img = Image.new("L", (420, 560), 20)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((110, 0, 310, 560), radius=90, fill=70)  # soft tissue
    draw.rounded_rectangle((135, 300, 195, 560), radius=25, fill=190)  # radius
    draw.rounded_rectangle((220, 320, 270, 560), radius=22, fill=180)  # ulna
    for i in range(8):  # carpal bones
        x, y = 140 + (i % 4) * 34, 230 + (i // 4) * 34
        draw.ellipse((x, y, x + 32, y + 30), fill=170 + rng.randint(-10, 10))
    for i in range(5):  # metacarpals
        x = 128 + i * 38
        draw.rounded_rectangle((x, 40 + abs(2 - i) * 15, x + 22, 225), radius=10, fill=185)
    if rng.random() < 0.6:  # a fracture line through the distal radius
        y = rng.randint(320, 360)
        draw.line((135, y, 195, y + rng.randint(-12, 12)), fill=60, width=3)
    img = img.filter(ImageFilter.GaussianBlur(2))
    return Image.blend(img, _noise(rng, img.size), 0.1)


def _mammogram(rng: random.Random) -> Image.Image:
    """A mammogram-like view: breast outline, streaky fibroglandular tissue, a dense spot."""
    size = (400, 520)
    breast = Image.new("L", size, 0)
    ImageDraw.Draw(breast).ellipse((-300, 10, 370, 510), fill=255)
    # Tissue is denser towards the nipple side and streaks towards it.
    texture = _noise(rng, (size[0] // 12, size[1] // 20), 0).resize(size, Image.BICUBIC)
    texture = texture.filter(ImageFilter.GaussianBlur(5)).point(lambda v: min(255, v * 3 // 2))
    ramp = Image.linear_gradient("L").rotate(90).resize(size).point(lambda v: 50 + v // 3)
    tissue = Image.blend(ramp, texture, 0.4)
    img = Image.new("L", size, 0)
    img.paste(tissue, (0, 0), breast.filter(ImageFilter.GaussianBlur(4)))
    if rng.random() < 0.7:
        x, y, r = rng.randint(120, 260), rng.randint(180, 340), rng.randint(8, 18)
        ImageDraw.Draw(img).ellipse((x - r, y - r, x + r, y + r), fill=225)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    return Image.blend(img, _noise(rng, size), 0.05)


def _ultrasound(rng: random.Random) -> Image.Image:
    """An ultrasound-like sector with speckle and a dark oval structure."""
    img = Image.new("L", (512, 420), 0)
    speckle = _noise(rng, img.size, 0.8).point(lambda v: int(v * 0.55))
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).pieslice((-144, -300, 656, 420), 60, 120, fill=255)
    img.paste(speckle, (0, 0), mask)
    draw = ImageDraw.Draw(img)
    x, y = rng.randint(200, 300), rng.randint(180, 260)
    draw.ellipse((x - 60, y - 35, x + 60, y + 35), fill=15)
    return img.filter(ImageFilter.GaussianBlur(0.7))


def _stained_tissue(rng: random.Random, *, ihc: bool = False) -> Image.Image:
    """A pathology-like tile: pink stroma, glands lined with nuclei, scattered cells.

    Haematoxylin stains nuclei purple and eosin the stroma pink; an immunohistochemistry
    (IHC) stain turns positive nuclei brown.
    """
    w, h = 640, 480
    stroma = Image.new("RGB", (w, h), (236, 178, 205) if not ihc else (226, 214, 226))
    shade = _noise(rng, (w // 8, h // 8), 0).resize((w, h), Image.BICUBIC)
    stroma = Image.composite(stroma, Image.new("RGB", (w, h), (214, 140, 180)), shade)
    draw = ImageDraw.Draw(stroma)
    nucleus = [(88, 48, 140), (110, 60, 160), (70, 40, 120)]
    if ihc:
        nucleus = [(120, 72, 35), (92, 60, 130), (140, 90, 50), (100, 60, 30)]
    for _ in range(rng.randint(6, 11)):  # glands: a lumen lined by a ring of nuclei
        cx, cy = rng.randint(40, w - 40), rng.randint(40, h - 40)
        rx, ry = rng.randint(25, 60), rng.randint(20, 45)
        draw.ellipse((cx - rx - 9, cy - ry - 9, cx + rx + 9, cy + ry + 9), fill=(200, 120, 175))
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(248, 236, 244))
        for k in range(36):
            angle = k / 36 * 6.283
            x = cx + (rx + 5) * math.cos(angle)
            y = cy + (ry + 5) * math.sin(angle)
            draw.ellipse((x - 4, y - 5, x + 4, y + 5), fill=rng.choice(nucleus))
    for _ in range(450):  # stromal and inflammatory cells
        x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(2, 4)
        draw.ellipse((x - r, y - r, x + r, y + r + rng.randint(0, 3)), fill=rng.choice(nucleus))
    return stroma.filter(ImageFilter.GaussianBlur(0.9))


def _dermoscopy(rng: random.Random) -> Image.Image:
    """A dermoscopy-like photograph: skin tone, a brown lesion with a darker network."""
    img = Image.new("RGB", (512, 512), (222, 178, 150))
    draw = ImageDraw.Draw(img)
    draw.ellipse((-60, -60, 572, 572), outline=(30, 30, 30), width=60)  # lens vignette
    cx, cy = rng.randint(220, 290), rng.randint(220, 290)
    for radius, colour in ((120, (150, 95, 70)), (80, (110, 65, 45)), (35, (70, 40, 30))):
        r = radius + rng.randint(-15, 15)
        draw.ellipse((cx - r, cy - int(r * 0.8), cx + r, cy + int(r * 0.8)), fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(3))
    grain = _noise(rng, img.size, 1.2).convert("RGB")
    return Image.blend(img, grain, 0.07)


DRAWERS: dict[str, Callable[[random.Random], Image.Image]] = {
    "ct": _ct_slice,
    "ct-head": lambda rng: _ct_slice(rng, head=True),
    "mr": _mr_brain,
    "pet": _pet,
    "xray": _radiograph,
    "mammo": _mammogram,
    "us": _ultrasound,
    "he": _stained_tissue,
    "ihc": lambda rng: _stained_tissue(rng, ihc=True),
    "derm": _dermoscopy,
}

CAPTIONS = {
    "ct": "Axial slice",
    "ct-head": "Axial slice through the brain",
    "mr": "Axial slice",
    "pet": "Coronal maximum intensity projection",
    "xray": "Frontal view",
    "mammo": "Mediolateral oblique view",
    "us": "B-mode image",
    "he": "Tissue at 20x",
    "ihc": "Immunohistochemistry at 20x",
    "derm": "Dermoscopic view",
}


def _save_atomic(img: Image.Image, path: Path) -> None:
    """Write to a temporary name and rename, so a half-written image is never visible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fmt = "JPEG" if path.suffix == ".jpg" else "PNG"
    options = {"quality": 88} if fmt == "JPEG" else {}
    img.save(tmp, format=fmt, **options)
    os.replace(tmp, path)


def media_folder(doi: str) -> str:
    return doi.replace("/", "_")


def example_images(doi: str, kind: str, count: int, rng: random.Random) -> list[dict]:
    """Draw (once) *count* images and their thumbnails; return caption, url, thumbnail_url."""
    folder = media_folder(doi)
    root = Path(settings.MEDIA_ROOT) / "register" / folder
    ext = "jpg" if kind in {"he", "ihc", "derm"} else "png"
    base_url = f"{settings.MEDIA_URL}register/{folder}"
    out = []
    for n in range(1, count + 1):
        name, thumb = f"example-{n}.{ext}", f"example-{n}-thumbnail.{ext}"
        # A seed for the same picture on every run, not a secret.
        image_rng = random.Random(f"{doi}:{n}")  # noqa: S311
        if not (root / name).is_file() or not (root / thumb).is_file():
            img = DRAWERS[kind](image_rng)
            _save_atomic(img, root / name)
            small = img.copy()
            small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            _save_atomic(small, root / thumb)
        caption = CAPTIONS[kind] if count == 1 else f"{CAPTIONS[kind]} ({n} of {count})"
        out.append(
            {
                "caption": caption,
                "url": f"{base_url}/{name}",
                "thumbnail_url": f"{base_url}/{thumb}",
            }
        )
    return out


LEGACY_ASSETS = "/assets/images/"


def draw_legacy_assets(version) -> None:
    """Draw stand-in pictures where an example record points into the legacy /assets/images/.

    On a real hub the data director copies the legacy site's images there instead.
    """
    kind = "xray" if set(version.modalities) & {"CR", "DX"} else "ct-head"
    urls = [version.image]
    for example in version.exampleimages.all():
        urls += [example.url, example.thumbnail_url]
    root = Path(settings.MEDIA_ROOT) / "register" / "assets" / "images"
    for url in urls:
        if not url or not url.startswith(LEGACY_ASSETS):
            continue
        target = (root / url[len(LEGACY_ASSETS) :]).resolve()
        if not target.is_relative_to(root.resolve()) or target.is_file():
            continue
        img = DRAWERS[kind](random.Random(url))  # noqa: S311
        if "thumbnail" in target.name:
            img.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        _save_atomic(img.convert("RGB"), target)
