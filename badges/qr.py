"""QR codes as SVG and PNG with print-grade error correction and a quiet zone."""

from __future__ import annotations

import re

import qrcode
import qrcode.constants
import qrcode.util
from qrcode.exceptions import DataOverflowError

from .baking import write_png
from .errors import QRCodeError

ERROR_CORRECTION = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
QUIET_ZONE = 4  # modules, the minimum of ISO/IEC 18004
MAX_PAYLOAD_BYTES = 1024
MAX_VERSION = 25  # beyond this, printed codes at badge size stop scanning reliably
ALPHANUMERIC = re.compile(rb"[0-9A-Z $%*+\-./:]+")


def qr_matrix(payload: str, *, error_correction: str = "Q", max_version: int = MAX_VERSION) -> list[list[bool]]:
    """Return the module matrix (True = dark), quiet zone included."""
    return [[bool(cell) for cell in row] for row in _make(payload, error_correction, max_version).get_matrix()]


def qr_version(payload: str, *, error_correction: str = "Q", max_version: int = MAX_VERSION) -> int:
    """Return the QR version (1-40) the payload needs: the smallest that fits."""
    return int(_make(payload, error_correction, max_version).version)


def _make(payload: str, error_correction: str, max_version: int) -> qrcode.QRCode:
    # A text made only of the QR alphanumeric characters (0-9 A-Z space $%*+-./:), such as a
    # BL1 compact badge, is written in alphanumeric mode as one segment: 5.5 bits a character.
    data = payload.encode("utf-8")
    if not data:
        raise QRCodeError("empty QR payload")
    if len(data) > MAX_PAYLOAD_BYTES:
        raise QRCodeError(f"QR payload longer than {MAX_PAYLOAD_BYTES} bytes; encode a URL to the credential instead")
    level = ERROR_CORRECTION.get(error_correction)
    if level is None:
        raise QRCodeError("error correction is one of L, M, Q, H")
    code = qrcode.QRCode(version=None, error_correction=level, border=QUIET_ZONE)
    if ALPHANUMERIC.fullmatch(data):
        code.add_data(qrcode.util.QRData(data, mode=qrcode.util.MODE_ALPHA_NUM))
    else:
        code.add_data(data)
    try:
        code.make(fit=True)
    except (DataOverflowError, ValueError) as exc:
        raise QRCodeError("payload does not fit in a QR code") from exc
    if code.version > max_version:
        raise QRCodeError(f"payload needs QR version {code.version} (> {max_version}); shorten it")
    return code


def qr_svg(payload: str, *, error_correction: str = "Q", module_size: int = 4, title: str | None = None) -> str:
    """Return a standalone SVG QR code (one path, crisp edges, white quiet zone)."""
    matrix = qr_matrix(payload, error_correction=error_correction)
    size = len(matrix)
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    pixels = size * module_size
    label = ""
    if title:
        escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        label = f"<title>{escaped}</title>"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges" role="img">{label}'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def qr_png(payload: str, *, error_correction: str = "Q", module_size: int = 8) -> bytes:
    """Return a 1-bit greyscale PNG QR code."""
    if not 1 <= module_size <= 64:
        raise QRCodeError("module size must be between 1 and 64 pixels")
    matrix = qr_matrix(payload, error_correction=error_correction)
    pixels = len(matrix) * module_size
    rows = bytearray()
    for row in matrix:
        packed = bytearray((pixels + 7) // 8)
        for column, dark in enumerate(row):
            if dark:
                continue
            for i in range(column * module_size, (column + 1) * module_size):
                packed[i >> 3] |= 0x80 >> (i & 7)
        line = b"\0" + bytes(packed)
        rows.extend(line * module_size)
    return write_png(pixels, pixels, bytes(rows), bit_depth=1, colour_type=0, level=9)
