"""The seal image (印章) printed over the date: PNG or JPEG only, within a size cap, decoded and
re-encoded as PNG by us. What was uploaded is never stored or served: an SVG or HTML file named
.png, a polyglot, or metadata cannot come back out."""

from __future__ import annotations

import io

from contest.domain.text import Text
from contest.errors import Invalid

MAX_SEAL_BYTES = 2 * 1024 * 1024
MAX_SEAL_PIXELS = 25_000_000  # decoded size is what costs memory: 5000 x 5000 at most
SEAL_SIDE = 800  # enough for 42 mm at about 480 dpi
WHITE = 235  # an opaque image's near-white background becomes transparent (a scanned seal on paper)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class SealRejected(Invalid):
    code = "bad_image"


def clean_seal(content: bytes) -> bytes:
    """The seal as a PNG we made, at most SEAL_SIDE pixels a side; SealRejected (Chinese) otherwise."""
    from PIL import Image, UnidentifiedImageError

    if not content:
        raise SealRejected("上传的印章图片是空的:请选择 PNG 或 JPEG 图片")
    if len(content) > MAX_SEAL_BYTES:
        raise SealRejected(Text("印章图片过大:不能超过 {megabytes} MB", megabytes=MAX_SEAL_BYTES // 1024 // 1024))
    if not (content.startswith(PNG_MAGIC) or content.startswith(JPEG_MAGIC)):
        raise SealRejected("印章图片应为 PNG 或 JPEG 格式(不接受 SVG、GIF、网页等其他文件)")
    try:
        with Image.open(io.BytesIO(content), formats=["PNG", "JPEG"]) as image:
            width, height = image.size
            if width * height > MAX_SEAL_PIXELS:
                raise SealRejected(Text("印章图片尺寸过大({width}×{height} 像素):请缩小到 5000×5000 像素以内", width=width, height=height))
            image.load()
            picture = _with_transparency(image)
    except SealRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise SealRejected("印章图片已损坏或无法识别:请重新导出为 PNG 或 JPEG 后上传") from None
    picture.thumbnail((SEAL_SIDE, SEAL_SIDE))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _with_transparency(image):
    """RGBA; an image without its own transparency gets its near-white background cleared."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    rgb = image.convert("RGB")
    alpha = rgb.convert("L").point(lambda v: 0 if v > WHITE else 255)
    picture = rgb.convert("RGBA")
    picture.putalpha(alpha)
    return picture
