#!/usr/bin/python3
"""Regenerates the Fashion-MNIST slice bundled with the app (standard library only).

Takes the first 5,000 training and first 1,000 test images and labels from the full IDX files
(Debian's dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist) and writes
them as valid IDX .gz files with the original names next to this script, in fashion-mnist/.

    /usr/bin/python3 Specs/Data/make_slice.py [SOURCE_DIR]
"""
import gzip
import os
import struct
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion-mnist")
SLICES = [("train", 5000), ("t10k", 1000)]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    dims = list(struct.unpack(f">{ndim}i", data[4:4 + 4 * ndim]))
    return dims, data[4 + 4 * ndim:]


def write_idx(path, dims, payload):
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}i", *dims)
    # mtime=0 and no file name in the gzip header, so reruns give identical bytes.
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(header + payload)


def main():
    os.makedirs(TARGET, exist_ok=True)
    for prefix, count in SLICES:
        for kind, rank in (("images", 3), ("labels", 1)):
            name = f"{prefix}-{kind}-idx{rank}-ubyte.gz"
            dims, data = read_idx(os.path.join(SOURCE, name))
            if len(dims) != rank or dims[0] < count:
                raise SystemExit(f"{name}: unexpected dimensions {dims}")
            per_item = 1
            for d in dims[1:]:
                per_item *= d
            write_idx(os.path.join(TARGET, name), [count] + dims[1:], data[:count * per_item])
            print(f"{name}: {count} of {dims[0]}")


if __name__ == "__main__":
    main()
