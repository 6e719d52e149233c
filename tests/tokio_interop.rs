//! Every codec through tokio-util's `FramedRead` / `FramedWrite` over a real
//! tokio `TcpStream` on loopback (feature `tokio`).
#![cfg(feature = "tokio")]

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use sockframe::{Codec, CodecError, DecodeError};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Decoder as _, FramedRead, FramedWrite};

const SPECS: &[&str] = &["len", "len:u16le", "varint", "lines", "delim:0d0a", "netstring", "cobs", "fixed:5"];

fn payloads(spec: &str) -> Vec<Vec<u8>> {
    if spec == "fixed:5" {
        return vec![b"hello".to_vec(), b"world".to_vec(), vec![0; 5]];
    }
    let mut v = vec![b"hello".to_vec(), Vec::new(), b"with \0 zero".to_vec()];
    v.push((0..10_000).map(|i| b'a' + (i % 26) as u8).collect());
    v
}

async fn exchange(spec: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let codec: Codec = spec.parse().unwrap();
    let sent = payloads(spec);
    let to_send = sent.clone();
    let writer_codec = codec.clone();
    let client = tokio::spawn(async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut sink = FramedWrite::new(stream, writer_codec);
        for p in to_send {
            sink.send(Bytes::from(p)).await.unwrap();
        }
        SinkExt::<Bytes>::close(&mut sink).await.unwrap();
    });
    let (stream, _) = listener.accept().await.unwrap();
    let mut frames = FramedRead::new(stream, codec);
    let mut got = Vec::new();
    while let Some(frame) = frames.next().await {
        let frame: BytesMut = frame.unwrap_or_else(|e| panic!("{spec}: {e}"));
        got.push(frame.to_vec());
    }
    client.await.unwrap();
    assert_eq!(got, sent, "{spec}");
}

#[tokio::test]
async fn framed_read_write_over_loopback() {
    for spec in SPECS {
        tokio::time::timeout(Duration::from_secs(20), exchange(spec))
            .await
            .unwrap_or_else(|_| panic!("{spec}: timeout"));
    }
}

#[tokio::test]
async fn raw_delivers_all_bytes_over_loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = tokio::spawn(async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut sink = FramedWrite::new(stream, sockframe::RawCodec::new());
        for chunk in [&b"unframed "[..], b"bytes ", b"from C"] {
            sink.send(chunk).await.unwrap();
        }
    });
    let (stream, _) = listener.accept().await.unwrap();
    let mut frames = FramedRead::new(stream, sockframe::RawCodec::new());
    let mut all = Vec::new();
    let read = async {
        while let Some(f) = frames.next().await {
            all.extend_from_slice(&f.unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.unwrap();
    client.await.unwrap();
    assert_eq!(all, b"unframed bytes from C");
}

#[test]
fn typed_errors_survive_the_tokio_error_type() {
    let mut codec: Codec = "netstring".parse().unwrap();
    let mut buf = BytesMut::from(&b"01:a,"[..]);
    let err = codec.decode(&mut buf).unwrap_err();
    assert!(matches!(err, CodecError::Decode(DecodeError::MalformedLength { .. })), "{err:?}");
    // A truncated stream is reported at EOF with the pending count.
    let mut buf = BytesMut::from(&b"3:ab"[..]);
    let err = codec.decode_eof(&mut buf).unwrap_err();
    assert!(matches!(err, CodecError::Decode(DecodeError::Truncated { pending: 4 })), "{err:?}");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn discard_mode_keeps_the_tokio_buffer_bounded() {
    // BAD_INPUTS D1/D2 through the tokio impl: the overlong line's bytes are
    // dropped as they arrive (skip frames), no error, then the next line.
    let mut codec: Codec = "lines,max=8,discard".parse().unwrap();
    let mut buf = BytesMut::new();
    for _ in 0..1000 {
        buf.extend_from_slice(b"xxxxxxxxxxxxxxxx");
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(buf.len() <= 8 + 16, "buffer grew to {}", buf.len());
    }
    buf.extend_from_slice(b"\nok\nlast");
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), "ok");
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    // An unterminated line that fits is truncated at the end, as for every framing.
    assert!(matches!(
        codec.decode_eof(&mut buf),
        Err(CodecError::Decode(DecodeError::Truncated { pending: 4 }))
    ));
}
