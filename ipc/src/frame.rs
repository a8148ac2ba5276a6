//! Length-prefixed frames over any byte stream.

use std::io::{self, Read, Write};

use crate::DecodeError;

/// Why no frame could be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream ended cleanly before a new frame began.
    #[error("the peer closed the stream")]
    Closed,
    /// The announced length is above the reader's maximum; nothing was allocated for it.
    #[error("frame of {len} bytes is over the {max}-byte maximum")]
    TooLarge { len: usize, max: usize },
    /// The stream broke, or ended inside a frame.
    #[error("i/o error on the frame stream: {0}")]
    Io(#[from] io::Error),
    /// A complete frame whose payload is not a valid message.
    #[error("malformed frame: {0}")]
    Decode(#[from] DecodeError),
}

/// Writes one frame (`u32` little-endian length, then the payload) and flushes.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(payload)?;
    w.flush()
}

/// Reads one frame of at most `max` bytes of payload.
pub fn read_frame(r: &mut impl Read, max: usize) -> Result<Vec<u8>, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"hello").unwrap();
        write_frame(&mut wire, b"").unwrap();
        let mut r = wire.as_slice();
        assert_eq!(read_frame(&mut r, 5).unwrap(), b"hello");
        assert_eq!(read_frame(&mut r, 5).unwrap(), b"");
        assert!(matches!(read_frame(&mut r, 5), Err(FrameError::Closed)));

        let mut r = wire.as_slice();
        assert!(matches!(
            read_frame(&mut r, 4),
            Err(FrameError::TooLarge { len: 5, max: 4 })
        ));
    }

    #[test]
    fn a_frame_cut_short_is_an_io_error_not_a_clean_close() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"hello").unwrap();
        for cut in 1..wire.len() {
            let mut r = &wire[..cut];
            match read_frame(&mut r, 1024) {
                Err(FrameError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
    }
}
