# ---
# title: QR code encoder
# kind: utility
# version: 1
# ---
"""A QR code encoder (ISO/IEC 18004) in plain Python, for the ``qr`` macro: ``import qr_utils``.

    encode(text, level="medium")   {"version": 3, "level": "M", "mode": "byte", "mask": 5,
                                    "size": 29, "rows": ["1111111001…", …]}
                                   the module matrix, "1" dark, without the quiet zone
    svg(rows, border=4, scale=1)   an SVG image of the rows: one unit per module, black on
                                   a white background, a `border`-module quiet zone, and
                                   `scale` pixels per module for its width and height
    data_uri(svg_text)             "data:image/svg+xml;base64,…"

``text`` is a str (encoded as UTF-8, without an ECI header, as Hugo's encoder does) or bytes. Its
mode is the most compact one that holds all of it: numeric (digits only), alphanumeric (0-9,
A-Z, space and $%*+-./:) or byte; ``mode="byte"`` (or "numeric", "alphanumeric") forces one.
``level`` is low, medium, quartile or high (or L, M, Q, H): about 7, 15, 25 and 30 % of the
codewords may be lost. The version (size) is the smallest that holds the text, from 1 (21×21
modules) to 40 (177×177); ``version=`` and ``mask=`` pin them (the tests compare with segno).

The mask is chosen as ISO/IEC 18004:2015 7.8.3 says: all eight are tried and the lowest penalty
wins (the lowest mask number on a tie). The penalty is computed, as the standard orders the
steps, on the masked symbol before the format and version information are written (those
modules, and the dark module, count as light), with the area outside the symbol light:
  N1  3 + (n - 5) for every run of n >= 5 modules of one colour in a row or column;
  N2  3 for every 2×2 block of one colour (blocks may overlap);
  N3  40 for every 1011101 (dark:light:dark:dark:dark:light:dark) in a row or column with four
      light modules before or after it; the search goes on after a counted pattern, so of
      overlapping ones (10111011101, 1011101011101) only the first can count;
  N4  10 × k, where the dark modules make 50 ± 5k..5(k+1) % of the symbol.

For speed, the eight candidates are scored with a few operations on one Python int each (all
rows and columns, see :class:`Board`), and the error correction uses one int per block.
"""
import base64
import re

LEVELS = {"low": 0, "medium": 1, "quartile": 2, "high": 3, "l": 0, "m": 1, "q": 2, "h": 3}
LEVEL_LETTERS = "LMQH"
# The two format-information bits of each level (L M Q H), ISO/IEC 18004 Table 12.
LEVEL_BITS = (1, 0, 3, 2)

# Error correction codewords per block and number of blocks, by level (L M Q H) then version
# (index 0 unused). ISO/IEC 18004 Table 9.
EC_PER_BLOCK = (
    (0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
     28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    (0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
     26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28),
    (0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
     28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    (0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
     30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
)
BLOCKS = (
    (0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
     8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25),
    (0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
     17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49),
    (0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
     23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68),
    (0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
     25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81),
)

MODES = {"numeric": 1, "alphanumeric": 2, "byte": 4}
# Bits of the character count, by mode, for versions 1-9, 10-26 and 27-40.
COUNT_BITS = {"numeric": (10, 12, 14), "alphanumeric": (9, 11, 13), "byte": (8, 16, 16)}
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
ALNUM_VALUE = {c: i for i, c in enumerate(ALPHANUMERIC)}
NUMERIC_RE = re.compile(r"[0-9]*")
ALNUM_RE = re.compile(r"[0-9A-Z $%*+\-./:]*")

# GF(256) with the polynomial x^8 + x^4 + x^3 + x^2 + 1; EXP is doubled so that
# EXP[log a + log b] needs no modulo.
EXP = [0] * 512
LOG = [0] * 256
_x = 1
for _i in range(255):
    EXP[_i] = _x
    LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    EXP[_i] = EXP[_i - 255]
del _x, _i

# A data mask by (row, column): ISO/IEC 18004 Table 10. Every pattern repeats every 12 rows
# and every 6 columns.
MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)
MASK_ROW_TILES = tuple(
    tuple("".join("1" if f(i, j) else "0" for j in range(6)) for i in range(12)) for f in MASKS
)
MASK_COLUMN_TILES = tuple(
    tuple("".join("1" if f(i, j) else "0" for i in range(12)) for j in range(6)) for f in MASKS
)
# Function-pattern flags (1) to data-region characters ("1").
FREE = bytes.maketrans(b"\x00\x01", b"10")

DARK_SPLIT_RE = re.compile(r"(1+)")


def raw_modules(version):
    """Modules left for data and error correction (with the remainder bits)."""
    n = (16 * version + 128) * version + 64
    if version >= 2:
        align = version // 7 + 2
        n -= (25 * align - 10) * align - 55
        if version >= 7:
            n -= 36
    return n


def data_codewords(version, level):
    return raw_modules(version) // 8 - EC_PER_BLOCK[level][version] * BLOCKS[level][version]


def alignment_positions(version):
    """The row/column centres of the alignment patterns (ISO/IEC 18004 Annex E)."""
    if version == 1:
        return []
    count = version // 7 + 2
    size = version * 4 + 17
    step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
    return [6] + [size - 7 - k * step for k in range(count - 2, -1, -1)]


def bch(value, bits, poly, poly_bits):
    """``value`` followed by its BCH remainder (``poly`` of degree ``poly_bits``)."""
    rem = value << poly_bits
    for shift in range(bits - 1, -1, -1):
        if rem >> (shift + poly_bits) & 1:
            rem ^= poly << shift
    return (value << poly_bits) | rem


def format_bits(level, mask):
    """The 15 format-information bits (ISO/IEC 18004 7.9)."""
    return bch(LEVEL_BITS[level] << 3 | mask, 5, 0x537, 10) ^ 0x5412


def version_bits(version):
    """The 18 version-information bits (ISO/IEC 18004 7.10), versions 7 and up."""
    return bch(version, 6, 0x1F25, 12)


def rs_generator(degree):
    """The generator polynomial's coefficients after the leading 1, as logarithms."""
    poly = [1]
    for k in range(degree):
        # Multiply by (x - a^k).
        nxt = poly + [0]
        for m in range(len(poly)):
            if poly[m]:
                nxt[m + 1] ^= EXP[LOG[poly[m]] + k]
        poly = nxt
    return [LOG[c] for c in poly[1:]]


def rs_remainders(blocks, gen_log):
    """The error correction codewords of each block (a list of ints): the remainder of the
    block times x^degree divided by the generator, kept as one int of ``degree`` bytes."""
    degree = len(gen_log)
    shift = 8 * (degree - 1)
    keep = (1 << 8 * degree) - 1
    products = {}  # factor -> the generator times the factor, as an int
    out = []
    for block in blocks:
        rem = 0
        for byte in block:
            factor = (rem >> shift) ^ byte
            rem = (rem << 8) & keep
            if factor:
                product = products.get(factor)
                if product is None:
                    lf = LOG[factor]
                    product = int.from_bytes(bytes([EXP[lf + g] for g in gen_log]), "big")
                    products[factor] = product
                rem ^= product
        out.append(list(rem.to_bytes(degree, "big")))
    return out


def choose_mode(data):
    if isinstance(data, bytes):
        return "byte"
    if NUMERIC_RE.fullmatch(data):
        return "numeric"
    if ALNUM_RE.fullmatch(data):
        return "alphanumeric"
    return "byte"


def segment_bits(data, mode):
    """(number of characters, data bits as an int, their bit length) for ``data`` in ``mode``."""
    if mode == "byte":
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        return len(raw), int.from_bytes(raw, "big"), 8 * len(raw)
    value = 0
    length = 0
    if mode == "numeric":
        for k in range(0, len(data), 3):
            chunk = data[k:k + 3]
            width = (4, 7, 10)[len(chunk) - 1]
            value = (value << width) | int(chunk)
            length += width
    else:
        for k in range(0, len(data) - 1, 2):
            value = (value << 11) | (ALNUM_VALUE[data[k]] * 45 + ALNUM_VALUE[data[k + 1]])
            length += 11
        if len(data) % 2:
            value = (value << 6) | ALNUM_VALUE[data[-1]]
            length += 6
    return len(data), value, length


def count_bits(mode, version):
    return COUNT_BITS[mode][0 if version <= 9 else 1 if version <= 26 else 2]


def codewords(count, value, length, mode, version, level):
    """The data codewords: mode, count, data, terminator and padding (ISO/IEC 18004 7.4)."""
    cbits = count_bits(mode, version)
    capacity = data_codewords(version, level) * 8
    bits = (MODES[mode] << cbits | count) << length | value
    n = 4 + cbits + length
    term = min(4, capacity - n)
    bits <<= term
    n += term
    pad = -n % 8
    bits <<= pad
    n += pad
    out = list(bits.to_bytes(n // 8, "big")) if n else []
    filler = (0xEC, 0x11)
    for k in range(capacity // 8 - len(out)):
        out.append(filler[k % 2])
    return out


def interleave(data, version, level):
    """Data and error correction codewords, split into blocks and interleaved (7.5, 7.6)."""
    nblocks = BLOCKS[level][version]
    ec_len = EC_PER_BLOCK[level][version]
    total = raw_modules(version) // 8
    short_len = total // nblocks - ec_len  # data codewords of a short block
    nshort = nblocks - total % nblocks
    blocks = []
    pos = 0
    for b in range(nblocks):
        size = short_len + (0 if b < nshort else 1)
        blocks.append(data[pos:pos + size])
        pos += size
    ecs = rs_remainders(blocks, rs_generator(ec_len))
    out = []
    for k in range(short_len + 1):
        for block in blocks:
            if k < len(block):
                out.append(block[k])
    for k in range(ec_len):
        for ec in ecs:
            out.append(ec[k])
    return out


def template(version):
    """(size, module chars with the function patterns, function flags, data module order)."""
    size = version * 4 + 17
    grid = ["0"] * (size * size)
    func = bytearray(size * size)

    def put(r, c, dark):
        grid[r * size + c] = "1" if dark else "0"
        func[r * size + c] = 1

    # Finder patterns with their separators.
    for r0, c0 in ((0, 0), (0, size - 7), (size - 7, 0)):
        for dr in range(-1, 8):
            for dc in range(-1, 8):
                r, c = r0 + dr, c0 + dc
                if 0 <= r < size and 0 <= c < size:
                    ring = max(abs(dr - 3), abs(dc - 3))
                    put(r, c, ring != 2 and ring != 4)
    # Timing patterns.
    for k in range(8, size - 8):
        put(6, k, k % 2 == 0)
        put(k, 6, k % 2 == 0)
    # Alignment patterns, except where they would overlap a finder.
    pos = alignment_positions(version)
    last = len(pos) - 1
    for a, r in enumerate(pos):
        for b, c in enumerate(pos):
            if (a, b) in ((0, 0), (0, last), (last, 0)):
                continue
            for dr in range(-2, 3):
                for dc in range(-2, 3):
                    put(r + dr, c + dc, max(abs(dr), abs(dc)) != 1)
    # Format information areas and the dark module: reserved, light until the mask is chosen.
    for k in range(9):
        if k != 6:  # (6, 8) and (8, 6) belong to the timing patterns
            put(8, k, False)
            put(k, 8, False)
    for k in range(8):
        put(8, size - 1 - k, False)
        put(size - 1 - k, 8, False)
    # Version information areas.
    if version >= 7:
        for k in range(18):
            put(k // 3, size - 11 + k % 3, False)
            put(size - 11 + k % 3, k // 3, False)
    # The data modules in placement order: two-module columns from the right, upwards and
    # downwards in turn, skipping the vertical timing pattern (7.7.3).
    order = []
    upward = True
    for right in list(range(size - 1, 7, -2)) + [5, 3, 1]:
        if upward:
            column = range((size - 1) * size + right, -1, -size)
        else:
            column = range(right, size * size, size)
        order += [i for j in column for i in (j, j - 1) if not func[i]]
        upward = not upward
    return size, grid, func, order


def lines_int(lines):
    """Lines of "0"/"1" (all as long) as one int: line k at bit 4 + k * (len + 4) and up, its
    first character the most significant, with four 0 bits between lines and below the first."""
    return int("".join([line + "0000" for line in reversed(lines)]), 2)


class Board:
    """The constant bit masks for scoring masked symbols of ``size`` modules: a symbol is
    scored as one int (:func:`lines_int`) of its rows followed by its columns."""

    def __init__(self, size):
        self.size = size
        self.stride = size + 4
        lines = 2 * size
        # Module positions (not the gaps between lines).
        self.modules = lines_int(["1" * size] * lines)
        # Every position, gaps and a margin of four above the last line too: outside is light.
        self.every = (1 << (lines * self.stride + 4)) - 1
        # The top-right corners of the 2x2 blocks: rows but the last, columns but the first.
        self.blocks = lines_int(["0" + "1" * (size - 1)] * (size - 1) + ["0" * size] * (size + 1))


def penalty(z, board):
    """The mask penalty N1 + N2 + N3 + N4 of a masked symbol ``z`` (rows and columns, as
    :class:`Board` says), as ISO/IEC 18004 7.8.3.1 counts it (see the module's doc)."""
    score = 0
    # N1: a run of n >= 5 modules of one colour sets n - 4 bits of y, and one bit of the
    # run's end; it scores n - 2.
    for x in (z, ~z & board.modules):
        y = x & (x >> 1) & (x >> 2) & (x >> 3) & (x >> 4)
        if y:
            score += y.bit_count() + 2 * (y & ~(y >> 1)).bit_count()
    # N2: 2x2 blocks of one colour, in the rows.
    stride = board.stride
    across = ~(z ^ (z >> 1))
    down = ~(z ^ (z >> stride))
    score += 3 * (across & (across >> stride) & down & board.blocks).bit_count()
    # N3: 1011101 with four light modules before or after it (the gaps count as light).
    w = ~z & board.every
    light4 = w & (w >> 1) & (w >> 2) & (w >> 3)
    found = z & (w >> 1) & (z >> 2) & (z >> 3) & (z >> 4) & (w >> 5) & (z >> 6)
    if found:
        counted = found & ((light4 >> 7) | (light4 << 4))
        # Counted patterns 4 or 6 modules apart overlap; the others simply count. (A pattern
        # that does not count hides nothing, and is never counted itself.)
        tangled = counted & ((counted >> 4) | (counted >> 6) | (counted << 4) | (counted << 6))
        score += 40 * (counted & ~tangled).bit_count()
        if tangled:
            # In order, each line from its first module (the highest bit, the first character
            # here): a counted pattern hides those starting 4 or 6 modules after it.
            marks = format(tangled, "b")
            hidden = set()
            i = marks.find("1")
            while i != -1:
                if i not in hidden:
                    score += 40
                    hidden.add(i + 4)
                    hidden.add(i + 6)
                i = marks.find("1", i + 1)
    # N4: the proportion of dark modules (each is in the rows and in the columns).
    total = board.size * board.size
    dark = z.bit_count() // 2
    score += 10 * (abs(20 * dark - 10 * total) // total)
    return score


def make(text, level="medium", mode=None, version=None, mask=None):
    """(version, level index, mode, mask, size, rows as ints): see :func:`encode`."""
    if not isinstance(text, (str, bytes)):
        raise TypeError(f"text must be a str or bytes, not {type(text).__name__}")
    lvl = LEVELS.get(level.lower()) if isinstance(level, str) else None
    if lvl is None:
        raise ValueError(f"level must be one of low, medium, quartile, high, not {level!r}")
    if mode is None:
        mode = choose_mode(text)
    elif mode not in MODES:
        raise ValueError(f"mode must be one of numeric, alphanumeric, byte, not {mode!r}")
    elif mode != "byte" and (isinstance(text, bytes) or not (
            NUMERIC_RE if mode == "numeric" else ALNUM_RE).fullmatch(text)):
        raise ValueError(f"the text cannot be encoded in {mode} mode")
    count, value, length = segment_bits(text, mode)
    if version is None:
        for v in range(1, 41):
            if count < 1 << count_bits(mode, v) and \
                    4 + count_bits(mode, v) + length <= data_codewords(v, lvl) * 8:
                version = v
                break
        else:
            unit = "bytes" if mode == "byte" else "characters"
            raise ValueError(
                f"the text is too long for a QR code: {count} {unit} in {mode} mode, at level "
                f"{('low', 'medium', 'quartile', 'high')[lvl]} at most {max_count(mode, lvl)}")
    elif version not in range(1, 41) or 4 + count_bits(mode, version) + length > \
            data_codewords(version, lvl) * 8:
        raise ValueError(f"the text does not fit in version {version!r}")
    if mask is not None and mask not in range(8):
        raise ValueError(f"mask must be 0 to 7, not {mask!r}")

    data = codewords(count, value, length, mode, version, lvl)
    final = interleave(data, version, lvl)
    size, grid, func, order = template(version)
    nbits = len(final) * 8
    bits = format(int.from_bytes(bytes(final), "big"), "0%db" % nbits)
    for idx, bit in zip(order, bits):
        grid[idx] = bit
    rows = ["".join(grid[r * size:(r + 1) * size]) for r in range(size)]
    free = bytes(func).translate(FREE)
    free_rows = [free[r * size:(r + 1) * size].decode("ascii") for r in range(size)]
    board = Board(size)
    z = lines_int(rows + ["".join(col) for col in zip(*rows)])
    region = lines_int(free_rows + ["".join(col) for col in zip(*free_rows)])
    rep6 = size // 6 + 1
    rep12 = size // 12 + 1

    def masked(m):
        pattern = [(tile * rep6)[:size] for tile in MASK_ROW_TILES[m]]
        col_pattern = [(tile * rep12)[:size] for tile in MASK_COLUMN_TILES[m]]
        lines = [pattern[r % 12] for r in range(size)] + [col_pattern[c % 6] for c in range(size)]
        return z ^ (lines_int(lines) & region)

    if mask is None:
        best = None
        for m in range(8):
            candidate = masked(m)
            score = penalty(candidate, board)
            if best is None or score < best[0]:
                best = (score, m, candidate)
        _, mask, chosen = best
    else:
        chosen = masked(mask)
    full = (1 << size) - 1
    out = [(chosen >> (4 + r * board.stride)) & full for r in range(size)]

    # Format information (twice), the dark module and the version information (twice).
    def set_dark(r, c):
        out[r] |= 1 << (size - 1 - c)

    fbits = format_bits(lvl, mask)
    for k in range(15):
        if fbits >> k & 1:
            # Around the top-left finder: down column 8, then leftwards along row 8.
            if k < 6:
                set_dark(k, 8)
            elif k < 8:
                set_dark(k + 1, 8)
            elif k == 8:
                set_dark(8, 7)
            else:
                set_dark(8, 14 - k)
            # Below the top-right finder (row 8) and beside the bottom-left one (column 8).
            if k < 8:
                set_dark(8, size - 1 - k)
            else:
                set_dark(size - 15 + k, 8)
    set_dark(size - 8, 8)
    if version >= 7:
        vbits = version_bits(version)
        for k in range(18):
            if vbits >> k & 1:
                set_dark(k // 3, size - 11 + k % 3)
                set_dark(size - 11 + k % 3, k // 3)
    return version, lvl, mode, mask, size, out


def max_count(mode, level):
    """How many characters (bytes in byte mode) version 40 holds in ``mode`` at ``level``."""
    bits = data_codewords(40, level) * 8 - 4 - count_bits(mode, 40)
    if mode == "byte":
        return bits // 8
    if mode == "numeric":
        return bits // 10 * 3 + (2 if bits % 10 >= 7 else 1 if bits % 10 >= 4 else 0)
    return bits // 11 * 2 + (1 if bits % 11 >= 6 else 0)


def encode(text, level="medium", mode=None, version=None, mask=None):
    """The QR code of ``text`` as a dict: version, level letter, mode, mask, size, and rows
    (one str of "0"/"1" per row, "1" dark, without the quiet zone)."""
    version, lvl, mode, mask, size, rows = make(text, level, mode, version, mask)
    fmt = "0%db" % size
    return {
        "version": version,
        "level": LEVEL_LETTERS[lvl],
        "mode": mode,
        "mask": mask,
        "size": size,
        "rows": [format(r, fmt) for r in rows],
    }


def svg(rows, border=4, scale=1):
    """An SVG image of ``rows`` ("0"/"1" strings): one user unit per module, black on a white
    background, with a quiet zone of ``border`` modules all round; ``scale`` pixels per module
    give its width and height. Each row is one stroke of width 1 through the middle of its
    modules: ``M4 4.5h7m1 0h1`` draws 7 dark modules, skips a light one and draws a dark one."""
    for name, value, least in (("border", border, 0), ("scale", scale, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be a whole number of at least {least}, not {value!r}")
    if not isinstance(rows, list) or not all(isinstance(r, str) for r in rows):
        raise TypeError("rows must be a list of strings")
    full = len(rows) + 2 * border
    longest = max(map(len, rows), default=0) + 1
    light = [""] + [f"m{n} 0" for n in range(1, longest)]
    dark = [f"h{n}" for n in range(longest)]
    parts = []
    for y, row in enumerate(rows, border):
        # Light, dark, light, ... run lengths (the first and last may be 0).
        runs = [len(run) for run in DARK_SPLIT_RE.split(row)]
        if len(runs) > 1:
            parts.append(f"M{border} {y}.5")
            parts.extend(map(str.__add__, map(light.__getitem__, runs[0::2]),
                             map(dark.__getitem__, runs[1::2])))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" '
        f'width="{full * scale}" height="{full * scale}" shape-rendering="crispEdges">'
        f'<rect width="{full}" height="{full}" fill="#fff"/>'
        f'<path d="{"".join(parts)}" stroke="#000"/></svg>'
    )


def data_uri(svg_text):
    """``svg_text`` as a base64 ``data:image/svg+xml`` URI."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode("utf-8")).decode("ascii")
