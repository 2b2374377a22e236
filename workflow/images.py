"""Uploaded images (the office's Garuda, a user's signature): PNG or JPEG judged by their
bytes and decoded to the end, never by the file's name."""

from __future__ import annotations

import io
import warnings

from PIL import Image

# extension -> (Pillow's format name, magic number, MIME type)
IMAGE_TYPES = {
    "png": ("PNG", b"\x89PNG\r\n\x1a\n", "image/png"),
    "jpg": ("JPEG", b"\xff\xd8\xff", "image/jpeg"),
}


class ImageProblem(Exception):
    """Why an upload is not a usable image: ``kind`` is "type", "pixels" or "broken"."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def decoded_type(data: bytes, max_pixels: int) -> str:
    """The image's extension judged from its bytes, after Pillow has decoded all of it;
    raises ``ImageProblem`` for another type, too many pixels, or a file that will not
    decode."""
    extension = next((ext for ext, (_, magic, _) in IMAGE_TYPES.items()
                      if data.startswith(magic)), None)
    if extension is None:
        raise ImageProblem("type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != IMAGE_TYPES[extension][0]:
                    raise ImageProblem("type")
                if image.width * image.height > max_pixels:
                    raise ImageProblem("pixels")
                # verify() reads every chunk to its end: WeasyPrint sets Pillow's
                # LOAD_TRUNCATED_IMAGES for the whole process, so load() alone would pad
                # a cut-off file instead of refusing it.
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise ImageProblem("broken") from None
    return extension
