//! tokio-util interop (feature `tokio`): every codec of this crate, and
//! [`Codec`], implements [`tokio_util::codec::Decoder`] (items are
//! [`BytesMut`] payloads split off the read buffer without copying) and
//! [`tokio_util::codec::Encoder`] for `&[u8]` and [`Bytes`], so async code
//! uses the same framing through `FramedRead` / `FramedWrite` / `Framed`.
//!
//! tokio-util requires the error type to be `From<io::Error>`, so these impls
//! use [`CodecError`], which keeps the typed [`DecodeError`] / [`EncodeError`]
//! apart from I/O errors instead of flattening them into `io::Error`.
//!
//! Both this crate's traits and tokio-util's have `decode`/`encode` methods;
//! with both in scope, call them as `sockframe::Decoder::decode(&mut c, ..)`.
//!
//! ```
//! use bytes::BytesMut;
//! use tokio_util::codec::{Decoder, Encoder};
//! use sockframe::VarintCodec;
//!
//! let mut codec = VarintCodec::new();
//! let mut buf = BytesMut::new();
//! Encoder::encode(&mut codec, &b"hi"[..], &mut buf).unwrap();
//! assert_eq!(Decoder::decode(&mut codec, &mut buf).unwrap().unwrap(), "hi");
//! ```

use std::io;

use bytes::{Buf, Bytes, BytesMut};

use crate::codec::any::Codec;
use crate::codec::Frame;
use crate::error::{DecodeError, EncodeError};

/// The error of the tokio-util impls: the framing's typed error, or an I/O
/// error from the underlying stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The peer's bytes violate the framing.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A payload this framing cannot carry.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The stream failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl From<CodecError> for io::Error {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Io(e) => e,
            e => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

/// Splits a decoded frame off `src`; drops skip frames (discarded bytes)
/// and decodes again, so memory stays bounded in skip mode.
fn next_frame(
    src: &mut BytesMut,
    mut decode: impl FnMut(&mut [u8]) -> Result<Option<Frame>, DecodeError>,
) -> Result<Option<BytesMut>, CodecError> {
    loop {
        let Some(frame) = decode(&mut src[..])? else { return Ok(None) };
        if frame.is_skip() {
            src.advance(frame.consumed());
            continue;
        }
        let mut bytes = src.split_to(frame.consumed());
        bytes.truncate(frame.payload_range().end);
        bytes.advance(frame.payload_range().start);
        return Ok(Some(bytes));
    }
}

macro_rules! tokio_impls {
    ($(($variant:ident, $t:ty)),* $(,)?) => {$(
        impl tokio_util::codec::Decoder for $t {
            type Item = BytesMut;
            type Error = CodecError;

            fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, CodecError> {
                next_frame(src, |buf| crate::codec::Decoder::decode(self, buf))
            }

            fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, CodecError> {
                next_frame(src, |buf| crate::codec::Decoder::decode_eof(self, buf))
            }
        }

        impl tokio_util::codec::Encoder<&[u8]> for $t {
            type Error = CodecError;

            fn encode(&mut self, item: &[u8], dst: &mut BytesMut) -> Result<(), CodecError> {
                Ok(crate::codec::Encoder::encode(self, item, dst)?)
            }
        }

        impl tokio_util::codec::Encoder<Bytes> for $t {
            type Error = CodecError;

            fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
                Ok(crate::codec::Encoder::encode(self, &item, dst)?)
            }
        }
    )*};
}

crate::for_each_codec!(tokio_impls);
tokio_impls!((Any, Codec));
