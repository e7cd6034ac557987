"""fault_helpers.py COMMAND ARGS...: the fault tests' data and file surgery (tests/fault_*_test.sh).

  mkdata DIR                 a generated CIFAR-10 directory (make_fake_cifar10, a fixed seed)
  ckpt PATH                  prints "EPOCH STEP" of a whole, finite checkpoint; exit 1 otherwise
  poison PATH BLOB INDEX     one float of a checkpoint blob set to nan, the CRC made right again
  npy_set PATH INDEX VALUE   one float32 element of a .npy file set to VALUE
  set_epochs PATH EPOCHS     a run's config.json with another "epochs"
  check_run DIR              exit 1 naming what is partial in a run directory
  plan RUN                   "FILE KB" per big output: the free space that stops a
                             `--resume --epochs 2` of a 1-epoch run amid writing FILE

The checkpoint layout is written down once, below, as src/io/checkpoint_file.cpp has it."""
import json
import math
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fake_cifar10  # noqa: E402  (beside this file)

# The fault tests' dataset: the same bytes in every test, so their runs can be compared.
DATA_SEED = 20240601

# ---- The checkpoint file (include/normlab/io/checkpoint_file.hpp) ---------------------------------
# magic (16 bytes), u32 version, u64 metadata length, metadata JSON, the blobs in the order of
# metadata["blobs"] ([{"name", "bytes"}]), u32 zlib CRC-32 of everything before it; little-endian.
CKPT_MAGIC = b"NORMLAB-CKPT\0\0\0\0"
CKPT_VERSION = 1
CKPT_HEADER = struct.Struct("<16sIQ")  # magic, version, metadata length
CKPT_CRC = struct.Struct("<I")


def read_ckpt(path):
    """(bytes, metadata, {blob name: (offset, length)}) of a checkpoint; ValueError if damaged."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < CKPT_HEADER.size + CKPT_CRC.size:
        raise ValueError(f"too short ({len(b)} bytes)")
    magic, version, metadata_length = CKPT_HEADER.unpack_from(b, 0)
    if magic != CKPT_MAGIC:
        raise ValueError("wrong magic")
    if version != CKPT_VERSION:
        raise ValueError(f"format version {version}, these helpers read {CKPT_VERSION}")
    (crc,) = CKPT_CRC.unpack_from(b, len(b) - CKPT_CRC.size)
    if zlib.crc32(b[:-CKPT_CRC.size]) != crc:
        raise ValueError("CRC mismatch")
    offset = CKPT_HEADER.size + metadata_length
    metadata = json.loads(b[CKPT_HEADER.size:offset])
    blobs = {}
    for entry in metadata["blobs"]:
        blobs[entry["name"]] = (offset, entry["bytes"])
        offset += entry["bytes"]
    if offset != len(b) - CKPT_CRC.size:
        raise ValueError("blob lengths do not add up")
    return b, metadata, blobs


def write_ckpt_bytes(path, b):
    """Writes a checkpoint's bytes with the CRC recomputed."""
    b = bytearray(b)
    CKPT_CRC.pack_into(b, len(b) - CKPT_CRC.size, zlib.crc32(bytes(b[:-CKPT_CRC.size])))
    with open(path, "wb") as f:
        f.write(b)


def check_ckpt(path):
    """(epoch, step) of a whole checkpoint whose blobs (all float32) are finite."""
    b, metadata, blobs = read_ckpt(path)
    for name, (offset, length) in blobs.items():
        if not all(math.isfinite(v) for v in struct.unpack_from(f"<{length // 4}f", b, offset)):
            raise ValueError(f"blob {name} holds a non-finite value")
    return metadata["state"]["epoch"], metadata["state"]["step"]


def ckpt(path):
    try:
        print(*check_ckpt(path))
    except (OSError, ValueError, KeyError) as e:
        print(f"{path}: {e}")
        sys.exit(1)


def poison(path, blob, index):
    b, _metadata, blobs = read_ckpt(path)
    if blob not in blobs:
        raise ValueError(f"{path} has no blob '{blob}'")
    b = bytearray(b)
    struct.pack_into("<f", b, blobs[blob][0] + 4 * int(index), float("nan"))
    write_ckpt_bytes(path, b)


# ---- .npy, run directories ---------------------------------------------------------------------

def npy_data_offset(b):
    if b[:6] != b"\x93NUMPY":
        raise ValueError("not a .npy file")
    if b[6] == 1:
        return 10 + struct.unpack_from("<H", b, 8)[0]
    return 12 + struct.unpack_from("<I", b, 8)[0]


def npy_set(path, index, value):
    with open(path, "rb") as f:
        b = bytearray(f.read())
    struct.pack_into("<f", b, npy_data_offset(b) + 4 * int(index), float(value))
    with open(path, "wb") as f:
        f.write(b)


def set_epochs(path, epochs):
    with open(path) as f:
        config = json.load(f)
    config["epochs"] = int(epochs)
    with open(path, "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\0\0\0\0IEND\xae\x42\x60\x82"


def check_run(d):
    """Nothing partial: whole PNGs, parsing JSON, a whole checkpoint, whole weights, no hidden
    leftovers (but the lock)."""
    problems = []
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            rel = os.path.relpath(os.path.join(root, name), d)
            if name.startswith(".") and name != ".lock":
                problems.append(f"{rel} left behind")
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, d)
            try:
                if name.endswith(".png"):
                    with open(path, "rb") as f:
                        b = f.read()
                    if not (b.startswith(PNG_SIGNATURE) and b.endswith(PNG_END)):
                        problems.append(f"{rel} is not a whole PNG ({len(b)} bytes)")
                elif name.endswith(".json"):
                    with open(path) as f:
                        json.load(f)
                elif name == "checkpoint.bin":
                    check_ckpt(path)
            except (OSError, ValueError, KeyError) as e:
                problems.append(f"{rel}: {e}")
    manifest = os.path.join(d, "weights", "manifest.json")
    if os.path.exists(manifest):
        try:
            with open(manifest) as f:
                tensors = json.load(f)["tensors"]
            for t in tensors:
                with open(os.path.join(d, "weights", t["file"]), "rb") as f:
                    b = f.read()
                if len(b) != npy_data_offset(b) + 4 * math.prod(t["shape"]):
                    problems.append(f"weights/{t['file']} is incomplete")
        except (OSError, ValueError, KeyError) as e:
            problems.append(f"weights/: {e}")
    if problems:
        print("; ".join(problems))
        sys.exit(1)


def plan(run):
    # The files a run writes, in the order it writes them; tmpfs charges whole 4 KB pages.
    order = ["config.json", "checkpoint.bin", "metrics.csv", "metrics.json", "curves.png",
             "confusion.csv", "confusion.png", "misclassified.png", "weights", "summary.json"]
    big = ("checkpoint.bin", "curves.png", "confusion.png", "misclassified.png", "weights")

    def kb(path):
        if os.path.isdir(path):
            return sum(kb(os.path.join(path, f)) for f in os.listdir(path))
        return -(-os.path.getsize(path) // 4096) * 4

    before = 0
    for name in order:
        size = kb(os.path.join(run, name))
        if name in big:
            print(name, before + size // 2)
        before += size


def mkdata(directory):
    make_fake_cifar10.write_dataset(directory, DATA_SEED)


COMMANDS = {"mkdata": mkdata, "ckpt": ckpt, "poison": poison, "npy_set": npy_set,
            "set_epochs": set_epochs, "check_run": check_run, "plan": plan}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"fault_helpers.py: a command, one of {', '.join(COMMANDS)}")
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"fault_helpers.py {sys.argv[1]}: {e}")


if __name__ == "__main__":
    main()
