"""pty_run.py COLUMNS PROGRAM ARGS...: runs PROGRAM on a pseudo-terminal COLUMNS wide (stdin,
stdout and stderr all the terminal), copies what it wrote to stdout, exits with its exit code.
For tests of what a person at a terminal sees."""
import fcntl
import os
import pty
import struct
import sys
import termios


def main():
    columns, argv = int(sys.argv[1]), sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        # The size is set before the program starts, so its first look sees it.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        os.execv(argv[0], argv)
    out = bytearray()
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the program has closed the terminal
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
