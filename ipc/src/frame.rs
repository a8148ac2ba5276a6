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

/// Waits until `fd` has bytes to read (or is closed): polls it, yielding the CPU, for up to
/// `spin`, then blocks in `poll(2)`.
///
/// A blocked reader woken from another core costs tens of microseconds on a virtual machine;
/// a request/reply peer that answers within `spin` is picked up without that wake-up. Yielding
/// (not busy-looping) lets the peer run when both share a core.
#[cfg(unix)]
pub fn wait_readable(fd: std::os::fd::RawFd, spin: std::time::Duration) -> io::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let timeout = if started.elapsed() < spin { 0 } else { -1 };
        // SAFETY: one valid pollfd, owned by this frame, for the duration of the call.
        let n = unsafe { libc::poll(&mut p, 1, timeout) };
        if n > 0 {
            return Ok(());
        }
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        } else {
            // SAFETY: sched_yield has no preconditions.
            unsafe { libc::sched_yield() };
        }
    }
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

    #[cfg(unix)]
    #[test]
    fn wait_readable_returns_once_data_or_eof_arrives() {
        use std::os::fd::AsRawFd;
        use std::time::{Duration, Instant};
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            a.write_all(b"x").unwrap();
            std::thread::sleep(Duration::from_millis(30));
            drop(a);
        });
        let started = Instant::now();
        // Spins for 1 ms, then blocks until the byte arrives.
        wait_readable(b.as_raw_fd(), Duration::from_millis(1)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(25));
        let mut buf = [0u8; 1];
        (&b).read_exact(&mut buf).unwrap();
        // End of stream also counts as readable.
        wait_readable(b.as_raw_fd(), Duration::ZERO).unwrap();
        t.join().unwrap();
    }

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
