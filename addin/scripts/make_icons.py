"""Draw the add-in's icons (16, 32, 64, 80, 128 px PNG) with the standard library: python3 scripts/make_icons.py."""

import struct
import zlib
from pathlib import Path

BLUE = (0x0F, 0x6C, 0xBD, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
SIZES = (16, 32, 64, 80, 128)


def pixel(x: int, y: int, size: int) -> tuple[int, int, int, int]:
    """A rounded blue square with two white switch bars, their knobs on opposite sides."""
    radius = max(2, size // 6)
    cx, cy = min(x, size - 1 - x), min(y, size - 1 - y)
    if cx < radius and cy < radius and (radius - cx - 0.5) ** 2 + (radius - cy - 0.5) ** 2 > radius * radius:
        return CLEAR
    bar, left, right, knob = max(1, size // 8), size // 5, size - size // 5, max(2, size // 5)
    for top, knob_x in ((size * 3 // 10, right - knob), (size * 6 // 10, left)):
        if top <= y < top + bar and left <= x < right:
            return WHITE
        knob_top = top - knob // 2 + bar // 2
        if knob_top <= y < knob_top + knob and knob_x <= x < knob_x + knob:
            return WHITE
    return BLUE


def png_bytes(size: int) -> bytes:
    """Encode one icon as an RGBA PNG."""
    raw = b"".join(b"\x00" + b"".join(bytes(pixel(x, y, size)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    folder = Path(__file__).resolve().parent.parent / "public" / "assets"
    folder.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        (folder / f"icon-{size}.png").write_bytes(png_bytes(size))
