"""make_fake_cifar10.py DIR [SEED]: a CIFAR-10 binary dataset in the official layout (five
training files and a test file of 10,000 records, batches.meta.txt) with random pixels and
labels i % 10, the same bytes for the same seed. For tests that must run without the real data.
fault_helpers.py imports write_dataset from here."""
import os
import random
import sys

CLASSES = "airplane automobile bird cat deer dog frog horse ship truck".split()


def write_dataset(directory, seed=7):
    """Creates DIR (it must not exist) and writes the six .bin files and batches.meta.txt."""
    rng = random.Random(seed)
    os.makedirs(directory)
    for name in ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]:
        records = bytearray(rng.randbytes(10000 * 3073))
        records[0::3073] = bytes(i % 10 for i in range(10000))
        with open(os.path.join(directory, name), "wb") as f:
            f.write(records)
    with open(os.path.join(directory, "batches.meta.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_fake_cifar10.py DIR [SEED]")
    try:
        write_dataset(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    except (ValueError, OSError) as e:
        sys.exit(f"make_fake_cifar10.py: {e}")


if __name__ == "__main__":
    main()
