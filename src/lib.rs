//! Message framing over stream sockets, done right.
//!
//! A TCP or Unix stream has no message boundaries. One `read` can return half
//! a message, or three; a non-blocking read can return `WouldBlock`; a write
//! can take fewer bytes than it was given. sockframe turns a byte stream into
//! frames and back, correctly under all of that.
//!
//! ```text
//!  sender                                             receiver
//!  encode("Hello")  ──►  00 00 00 05 48 65 6c 6c 6f  ──►  decode  ──►  "Hello"
//!                        └─ len: u32 BE ┘└ payload ┘
//!          the stream may cut these bytes anywhere; frames come out whole
//! ```
//!
//! The core of this crate does no network I/O. Its [`Decoder`]s and
//! [`Encoder`]s work on buffers you own: you read bytes from wherever they
//! come from, hand them to a decoder, and get frames back, or "need more",
//! or a typed error. The core builds as `no_std` + `alloc` (disable the
//! default `std` feature).
//!
//! # The I/O loop a caller writes
//!
//! ```
//! use std::io::Read;
//! use sockframe::{Decoder, LengthCodec};
//!
//! // Any byte source; here two frames arriving in awkward pieces.
//! let wire = b"\x00\x00\x00\x05Hello\x00\x00\x00\x05world";
//! let mut source = std::io::Cursor::new(&wire[..]);
//!
//! let mut codec = LengthCodec::new();
//! let mut buf: Vec<u8> = Vec::new();
//! let mut chunk = [0u8; 3]; // a tiny read size, to show that cuts don't matter
//! let mut frames = Vec::new();
//! loop {
//!     // 1. Take every complete frame out of what has arrived.
//!     let mut used = 0;
//!     while let Some(frame) = codec.decode(&mut buf[used..]).unwrap() {
//!         frames.push(frame.payload(&buf[used..]).to_vec());
//!         used += frame.consumed();
//!     }
//!     buf.drain(..used);
//!     // 2. Read more. Ok(0) is the end of the stream.
//!     let n = source.read(&mut chunk).unwrap();
//!     if n == 0 {
//!         // A clean end only if no partial frame is left.
//!         assert_eq!(codec.decode_eof(&mut buf), Ok(None));
//!         break;
//!     }
//!     buf.extend_from_slice(&chunk[..n]);
//! }
//! assert_eq!(frames, [b"Hello", b"world"]);
//! ```
//!
//! Frames can also come out as owned [`bytes::Bytes`] split from a
//! [`bytes::BytesMut`] without copying ([`Decoder::decode_bytes`]), or be
//! borrowed in bulk with the [`Frames`] iterator.
//!
//! Writing: [`Encoder::encode`] appends a frame to a buffer you own. If the
//! socket takes fewer bytes than you offered, send the rest later, starting
//! exactly where it stopped:
//!
//! ```
//! use std::io::Write;
//! use bytes::{Buf, BytesMut};
//! use sockframe::{Encoder, LengthCodec};
//!
//! let mut out = BytesMut::new();
//! LengthCodec::new().encode(b"Hello from server", &mut out).unwrap();
//! let mut socket: Vec<u8> = Vec::new(); // stands in for a TcpStream
//! while !out.is_empty() {
//!     match socket.write(&out) {
//!         Ok(0) => panic!("write zero"),
//!         Ok(n) => out.advance(n), // a short write keeps the rest queued
//!         Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
//!         Err(e) => panic!("{e}"),
//!     }
//! }
//! assert_eq!(&socket[4..], b"Hello from server");
//! ```
//!
//! # Sockets
//!
//! With the default `std` feature, [`Framed`] drives a codec over any
//! `Read + Write` stream (TCP, Unix sockets, mio streams), blocking or
//! non-blocking; [`buffer`] holds its receive buffer and send queue and
//! [`net`] the socket helpers. See the [`transport`] module for the caller's
//! loops.
//!
//! Two more drivers share the same receive buffer, send queue and codec
//! contract, each behind a feature:
//!
//! | feature | driver | over |
//! |---|---|---|
//! | `embedded-io` | `embedded::FramedIo` (blocking, `no_std` + `alloc`) | `embedded_io::{Read, Write}`: a UART, a USB CDC port |
//! | `futures-io` | `futures_io::AsyncFramed` (async, implies `std`) | `futures_io::{AsyncRead, AsyncWrite}`: smol, async-std, tokio through `tokio_util::compat` |
//!
//! # Limits
//! Every limit has a finite default: a length prefix accepts frames up to
//! 8 MiB unless configured otherwise, and a declared length is checked before
//! a single payload byte is buffered.
//!
//! # Framings
//!
//! | codec | wire | spec ([`Codec`]) |
//! |---|---|---|
//! | [`LengthCodec`] | fixed-width length prefix (tokio-util compatible) | `len`, `len:u16le`, ... |
//! | [`VarintCodec`] | LEB128 length prefix (protobuf length-delimited) | `varint` |
//! | [`DelimitedCodec`] | lines, or any 1–32 byte delimiter | `lines`, `delim:0d0a` |
//! | [`NetstringCodec`] | `len:payload,` | `netstring` |
//! | [`CobsCodec`] | COBS, `0x00` ends each frame | `cobs` |
//! | [`RawCodec`], [`FixedCodec`] | unframed chunks, fixed-size records | `raw`, `fixed:N` |
//! | [`SlipCodec`], [`KissCodec`] | SLIP (RFC 1055), KISS TNC frames | `slip`, `kiss` |
//! | [`HdlcCodec`] | HDLC-style async framing with FCS-16/32 (RFC 1662) | `hdlc`, `hdlc:fcs32` |
//! | [`SyncCodec`] | sync word, length, header check, CRC; resynchronises | `sync`, `sync:a55a` |
//! | [`ChecksumCodec`] | a CRC trailer on any of the above | `len,crc=crc32c`, `cobs,crc=crc16-xmodem` |
//!
//! For links that corrupt bytes (serial lines, radio modems and the TCP
//! gateways in front of them), every framing with a check or a delimiter
//! can skip a bad frame and go on with the next instead of failing
//! (`,discard`; see [`SkipReason`]).
//!
//! [`Codec`] picks one at run time from a spec string such as
//! `len:u16le,max=1024`. With the `tokio` feature every codec also implements
//! `tokio_util::codec::{Decoder, Encoder}` (see the `tokio_codec` module).
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

pub mod buffer;
pub mod codec;
#[cfg(feature = "embedded-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "embedded-io")))]
pub mod embedded;
pub mod error;
#[cfg(feature = "futures-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures-io")))]
pub mod futures_io;
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
#[cfg(feature = "std")]
pub mod net;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio_codec;
#[cfg(feature = "std")]
pub mod transport;

#[cfg(feature = "futures-io")]
pub use crate::futures_io::AsyncFramed;
pub use codec::any::Codec;
pub use codec::checksum::{Checksum, ChecksumCodec, CrcAlgorithm};
pub use codec::cobs::{CobsBuilder, CobsCodec};
pub use codec::delimited::{DelimitedBuilder, DelimitedCodec, Overlong};
pub use codec::hdlc::{HdlcBuilder, HdlcCodec};
pub use codec::length::{Endian, LengthBuilder, LengthCodec};
pub use codec::netstring::{NetstringBuilder, NetstringCodec};
pub use codec::raw::{FixedCodec, RawCodec};
pub use codec::slip::{KissCodec, SlipBuilder, SlipCodec};
pub use codec::sync::{SyncBuilder, SyncCodec};
pub use codec::varint::{VarintBuilder, VarintCodec};
pub use codec::{
    DecodeRef, Decoder, Encoder, Envelope, Frame, Frames, RefFrames, SkipReason, SkipStats, SliceEncode,
    TextFrames,
};
#[cfg(feature = "embedded-io")]
pub use embedded::{FramedIo, FramedIoConfig, FramedIoError};
pub use error::{ConfigError, DecodeError, EncodeError};
#[cfg(feature = "std")]
pub use error::{TimeoutKind, TransportError};
#[cfg(feature = "tokio")]
pub use tokio_codec::CodecError;
#[cfg(feature = "std")]
pub use transport::{Framed, FramedConfig, FramedRead, FramedWrite, Recv, Replies};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
