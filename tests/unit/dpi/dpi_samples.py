"""Real and hand-built protocol samples shared by the DPI parser tests.

ClientHellos come from Python's own ssl module; QUIC Initials from the RFC 9001 / RFC 9369
test vectors, from aioquic when it is installed, and from :func:`protect_initial` (checked
against the RFC 9001 vector in the tests) for hand-made frame layouts.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import random
import ssl
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# ---------------------------------------------------------------- TLS


def ssl_client_hello(server_name: str | None = "Example.COM",
                     alpn: tuple[str, ...] = ("h2", "http/1.1")) -> bytes:
    """The bytes Python's ssl module sends first: one record holding a ClientHello."""
    context = ssl.create_default_context()
    if server_name is None:
        context.check_hostname = False
    if alpn:
        context.set_alpn_protocols(list(alpn))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def handshake_of(record_stream: bytes) -> bytes:
    """The handshake message inside a single-record stream."""
    length = struct.unpack_from("!H", record_stream, 3)[0]
    return record_stream[5:5 + length]


def split_extensions(handshake: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    """(ClientHello body up to the extension block, [(type, data), ...])."""
    body = handshake[4:]
    pos = 2 + 32
    pos += 1 + body[pos]
    pos += 2 + struct.unpack_from("!H", body, pos)[0]
    pos += 1 + body[pos]
    head, ext_len = body[:pos], struct.unpack_from("!H", body, pos)[0]
    exts, p = [], pos + 2
    while p < pos + 2 + ext_len:
        ext_type, length = struct.unpack_from("!HH", body, p)
        exts.append((ext_type, body[p + 4:p + 4 + length]))
        p += 4 + length
    return head, exts


def join_extensions(head: bytes, exts: list[tuple[int, bytes]]) -> bytes:
    """A ClientHello handshake message from a body head and extensions."""
    block = b"".join(struct.pack("!HH", t, len(d)) + d for t, d in exts)
    body = head + struct.pack("!H", len(block)) + block
    return b"\x01" + len(body).to_bytes(3, "big") + body


def records(handshake: bytes, sizes: tuple[int, ...] = (), version: int = 0x0301) -> bytes:
    """``handshake`` in TLS handshake records: fragments of the given sizes, then the rest."""
    out, pos = [], 0
    for size in (*sizes, len(handshake)):
        fragment = handshake[pos:pos + size]
        if not fragment:
            break
        out.append(struct.pack("!BHH", 0x16, version, len(fragment)) + fragment)
        pos += len(fragment)
    return b"".join(out)


def sni_extension(name: bytes) -> bytes:
    entry = b"\x00" + struct.pack("!H", len(name)) + name
    return struct.pack("!H", len(entry)) + entry


GROUP_X25519MLKEM768, GROUP_X25519 = 0x11EC, 0x001D
MLKEM768_X25519_SHARE = 1184 + 32  # ML-KEM-768 encapsulation key + X25519 public key


def post_quantum_hello(server_name: bytes = b"pq.example.net") -> bytes:
    """A ~1.8 KB ClientHello shaped like Chrome's: GREASE, an X25519MLKEM768 key share,
    an ECH outer extension, padding; built from a real ssl-made hello."""
    rng = random.Random(1)
    head, exts = split_extensions(handshake_of(ssl_client_hello(None)))
    exts = [(t, d) for t, d in exts if t not in (0x0000, 0x0033, 0x0015)]
    shares = (struct.pack("!HH", 0x3A3A, 1) + b"\x00"
              + struct.pack("!HH", GROUP_X25519MLKEM768, MLKEM768_X25519_SHARE)
              + rng.randbytes(MLKEM768_X25519_SHARE)
              + struct.pack("!HH", GROUP_X25519, 32) + rng.randbytes(32))
    ech = b"\x00" + struct.pack("!HH", 1, 1) + b"\x2a" + struct.pack("!H", 32) + rng.randbytes(32)
    ech += struct.pack("!H", 208) + rng.randbytes(208)
    exts = ([(0x0A0A, b""), (0x0000, sni_extension(server_name))] + exts
            + [(0x0033, struct.pack("!H", len(shares)) + shares), (0xFE0D, ech),
               (0x1A1A, b"\x00"), (0x0015, bytes(64))])
    return join_extensions(head, exts)


# ---------------------------------------------------------------- DNS, HTTP, STUN

# Captured from `dig +noedns example.com A` (RFC 1035 wire format, id 0x1d6b, RD set).
DIG_QUERY = bytes.fromhex("1d6b01000001000000000000076578616d706c6503636f6d0000010001")

# What `curl http://Example.COM:8080/a/b?c=d` sends (curl 7.88.1).
CURL_GET = (b"GET /a/b?c=d HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: curl/7.88.1\r\n"
            b"Accept: */*\r\n\r\n")

STUN_MAGIC_COOKIE = 0x2112A442
TXID = bytes.fromhex("b7e7a701bc34d686fa87dfae")


def stun_attribute(attr_type: int, value: bytes) -> bytes:
    padding = b"\x00" * (-len(value) % 4)
    return struct.pack("!HH", attr_type, len(value)) + value + padding


def rfc5389_request(attributes: bytes = b"", msg_type: int = 0x0001) -> bytes:
    return struct.pack("!HHI", msg_type, len(attributes), STUN_MAGIC_COOKIE) + TXID + attributes


def with_fingerprint(message_without: bytes) -> bytes:
    """Append FINGERPRINT (RFC 5389 15.5) the way clients such as libnice and WebRTC do."""
    length = struct.unpack_from("!H", message_without, 2)[0] + 8
    head = message_without[:2] + struct.pack("!H", length) + message_without[4:]
    crc = binascii.crc32(head) ^ 0x5354554E
    return head + stun_attribute(0x8028, struct.pack("!I", crc))


# A WebRTC-style ICE check: USERNAME, ICE-CONTROLLING, PRIORITY, FINGERPRINT.
ICE_CHECK = with_fingerprint(rfc5389_request(
    stun_attribute(0x0006, b"abcd:efgh") + stun_attribute(0x802A, bytes(8))
    + stun_attribute(0x0024, struct.pack("!I", 0x6E7F00FF))))
# RFC 3489 Binding Requests as classic clients (e.g. old stunclient) send them.
CLASSIC_STUN = bytes.fromhex("00010000") + bytes(range(16))
CLASSIC_STUN_CHANGE_REQUEST = (bytes.fromhex("00010008") + bytes(range(16))
                               + stun_attribute(0x0003, bytes(4)))


# ---------------------------------------------------------------- QUIC

RFC9001_DCID = bytes.fromhex("8394c8f03e515708")
# RFC 9001 A.2: the client Initial's unprotected header and the start of its payload
# (one CRYPTO frame, then PADDING to 1162 bytes).
RFC9001_HEADER = bytes.fromhex("c300000001088394c8f03e5157080000449e00000002")
RFC9001_CRYPTO_FRAME = bytes.fromhex(
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff"
)
# RFC 9001 A.2: the protected client Initial, exactly as sent (1200 bytes).
RFC9001_CLIENT_INITIAL = bytes.fromhex(
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934"
)
# RFC 9369 A.2: the same Initial for QUIC version 2 (1200 bytes).
RFC9369_CLIENT_INITIAL = bytes.fromhex(
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc"
)

_SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def _expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    return hmac.new(secret, info + b"\x01", hashlib.sha256).digest()[:length]


def varint(value: int) -> bytes:
    """QUIC variable-length integer, shortest form."""
    for size, prefix in ((1, 0), (2, 0x40), (4, 0x80), (8, 0xC0)):
        if value < 1 << (8 * size - 2):
            return (value | prefix << (8 * size - 8)).to_bytes(size, "big")
    raise ValueError(value)


def crypto_frame(offset: int, data: bytes) -> bytes:
    return b"\x06" + varint(offset) + varint(len(data)) + data


def protect_initial(dcid: bytes, payload: bytes, packet_number: int = 0, scid: bytes = b"",
                    token: bytes = b"", pn_len: int = 4) -> bytes:
    """A QUIC v1 client Initial carrying ``payload`` (frames), independently of the parser:
    stdlib HKDF, AES-128-GCM, AES-ECB header protection (RFC 9001 5)."""
    secret = _expand_label(hmac.new(_SALT_V1, dcid, hashlib.sha256).digest(), b"client in", 32)
    key = _expand_label(secret, b"quic key", 16)
    iv = _expand_label(secret, b"quic iv", 12)
    hp = _expand_label(secret, b"quic hp", 16)
    pn = packet_number.to_bytes(pn_len, "big")
    length = len(pn) + len(payload) + 16
    header = (bytes((0xC0 | (pn_len - 1),)) + b"\x00\x00\x00\x01" + bytes((len(dcid),)) + dcid
              + bytes((len(scid),)) + scid + varint(len(token)) + token
              + struct.pack("!H", 0x4000 | length) + pn)
    nonce = (int.from_bytes(iv, "big") ^ packet_number).to_bytes(12, "big")
    sealed = AESGCM(key).encrypt(nonce, payload, header)
    pn_at = len(header) - pn_len
    sample = sealed[4 - pn_len:4 - pn_len + 16]
    mask = Cipher(algorithms.AES(hp), modes.ECB()).encryptor().update(sample)
    out = bytearray(header + sealed)
    out[0] ^= mask[0] & 0x0F
    for i in range(pn_len):
        out[pn_at + i] ^= mask[1 + i]
    return bytes(out)


def aioquic_datagrams(server_name: str = "www.Example.org", alpn: tuple[str, ...] = ("h3",),
                      version: str = "1") -> list[bytes]:
    """The datagrams an aioquic client sends first (its Initials); skips if not installed."""
    pytest.importorskip("aioquic")
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.connection import QuicConnection
    from aioquic.quic.packet import QuicProtocolVersion

    configuration = QuicConfiguration(is_client=True, alpn_protocols=list(alpn),
                                      server_name=server_name)
    configuration.supported_versions = [
        QuicProtocolVersion.VERSION_1 if version == "1" else QuicProtocolVersion.VERSION_2]
    connection = QuicConnection(configuration=configuration)
    connection.connect(("198.19.0.1", 443), now=0.0)
    return [datagram for datagram, _ in connection.datagrams_to_send(now=0.0)]


def long_alpn(total: int) -> tuple[str, ...]:
    """ALPN names adding about ``total`` bytes to a ClientHello (to reach post-quantum sizes)."""
    count = max(1, total // 100)
    return tuple(f"x-{i:03d}-" + "p" * 93 for i in range(count))
