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


def _read_exactly(sock, view):
    received = 0
    while received < len(view):
        got = sock.recv_into(view[received:], len(view) - received)
        if got == 0:
            raise ChannelClosed()
        received += got


class FrameReader:
    """Receives frames into one buffer that grows as needed and is reused, so a large payload
    does not cost fresh pages from the system for every frame. A frame's payload is valid until
    the next frame is received."""

    def __init__(self, sock):
        self.sock = sock
        self._buffer = bytearray(1 << 16)

    def receive(self):
        """The next frame: (header dict, payload memoryview)."""
        prefix = bytearray(_PREFIX.size)
        _read_exactly(self.sock, memoryview(prefix))
        header_length, payload_length = _PREFIX.unpack(prefix)
        if header_length > MAX_HEADER or payload_length > MAX_PAYLOAD:
            raise ValueError(f"a frame of {header_length} + {payload_length} bytes is beyond the channel's limits")
        header = bytearray(header_length)
        _read_exactly(self.sock, memoryview(header))
        if payload_length > len(self._buffer):
            self._buffer = bytearray(payload_length)
        payload = memoryview(self._buffer)[:payload_length]
        _read_exactly(self.sock, payload)
        return json.loads(header), payload


def blob(payload, described):
    """The bytes a blob description points at in `payload`."""
    start = described["offset"]
    return payload[start:start + described["length"]]
