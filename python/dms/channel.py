"""The frames the server and a worker process exchange over their socket.

A frame is a small JSON header and a binary payload:

    u32 little-endian  header length in bytes
    u64 little-endian  payload length in bytes
    header             UTF-8 JSON object; its "op" says what the frame is
    payload            the bytes of the frame's blobs, one after another

Blobs (request parts, tensors, responses) are described in the header by their `offset` and
`length` in the payload, so tensor bytes travel as they are: never pickled, never as text.
"""

import json
import struct

_PREFIX = struct.Struct("<IQ")
MAX_HEADER = 16 << 20
MAX_PAYLOAD = 4 << 30


class ChannelClosed(Exception):
    """The other side closed the socket."""


class FrameWriter:
    """Collects blobs for one frame's payload."""

    def __init__(self):
        self._chunks = []
        self._length = 0

    def add(self, data):
        """Adds `data` (bytes-like) to the payload and returns its description."""
        view = memoryview(data).cast("B")
        described = {"offset": self._length, "length": view.nbytes}
        self._chunks.append(view)
        self._length += view.nbytes
        return described

    def send(self, sock, header):
        encoded = json.dumps(header, separators=(",", ":")).encode()
        sock.sendall(_PREFIX.pack(len(encoded), self._length) + encoded)
        for chunk in self._chunks:
            sock.sendall(chunk)


def _read_exactly(sock, count):
    buffer = bytearray(count)
    view = memoryview(buffer)
    received = 0
    while received < count:
        got = sock.recv_into(view[received:], count - received)
        if got == 0:
            raise ChannelClosed()
        received += got
    return buffer


def receive(sock):
    """The next frame: (header dict, payload memoryview)."""
    header_length, payload_length = _PREFIX.unpack(_read_exactly(sock, _PREFIX.size))
    if header_length > MAX_HEADER or payload_length > MAX_PAYLOAD:
        raise ValueError(f"a frame of {header_length} + {payload_length} bytes is beyond the channel's limits")
    header = json.loads(_read_exactly(sock, header_length))
    payload = memoryview(_read_exactly(sock, payload_length)) if payload_length else memoryview(b"")
    return header, payload


def blob(payload, described):
    """The bytes a blob description points at in `payload`."""
    start = described["offset"]
    return payload[start:start + described["length"]]
