//! A listening Unix socket as a character backend.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use super::{CharBackend, CharInput, ChardevError, Result, fd_ready};

/// A listening Unix socket serving one client at a time. Output while no
/// client is connected is dropped; a client that disconnects is replaced by
/// the next one to connect.
#[derive(Debug)]
pub struct UnixSocket {
    listener: UnixListener,
    client: Option<UnixStream>,
    path: PathBuf,
}

impl UnixSocket {
    /// Listens on `path`, replacing a stale socket file left there.
    pub fn listen(path: &Path) -> Result<Self> {
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && meta.file_type().is_socket()
        {
            let _ = std::fs::remove_file(path);
        }
        let open_err = |action, source| ChardevError::Open {
            action,
            path: path.to_owned(),
            source,
        };
        let listener = UnixListener::bind(path).map_err(|e| open_err("listen on", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| open_err("configure", e))?;
        Ok(UnixSocket {
            listener,
            client: None,
            path: path.to_owned(),
        })
    }

    /// Block until a client connects (QEMU's `wait=on`).
    pub fn wait_for_client(&mut self) -> Result<()> {
        let configure = |e| ChardevError::Open {
            action: "configure",
            path: self.path.clone(),
            source: e,
        };
        self.listener.set_nonblocking(false).map_err(configure)?;
        let accepted = self.listener.accept();
        self.listener.set_nonblocking(true).map_err(configure)?;
        let (stream, _) = accepted.map_err(|e| ChardevError::Open {
            action: "accept a client on",
            path: self.path.clone(),
            source: e,
        })?;
        stream.set_nonblocking(false).map_err(configure)?;
        self.client = Some(stream);
        Ok(())
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True while a client is connected.
    pub fn has_client(&mut self) -> bool {
        self.accept_client();
        self.client.is_some()
    }

    fn accept_client(&mut self) {
        if self.client.is_some() {
            return;
        }
        match self.listener.accept() {
            Ok((stream, _)) => {
                // Reads are polled first, so the stream stays blocking; that
                // makes writes complete instead of dropping bytes mid-line.
                if stream.set_nonblocking(false).is_ok() {
                    self.client = Some(stream);
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => tracing::warn!("unix socket {}: accept failed: {err}", self.path.display()),
        }
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl CharBackend for UnixSocket {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.accept_client();
        if let Some(client) = self.client.as_mut()
            && client.write_all(bytes).is_err()
        {
            self.client = None;
        }
        Ok(())
    }

    fn read_input(&mut self, buf: &mut [u8]) -> Result<CharInput> {
        self.accept_client();
        let Some(client) = self.client.as_mut() else {
            return Ok(CharInput::Idle);
        };
        if buf.is_empty() || !fd_ready(client.as_raw_fd(), libc::POLLIN, 0)? {
            return Ok(CharInput::Idle);
        }
        match client.read(buf) {
            Ok(0) => {
                self.client = None;
                Ok(CharInput::Idle)
            }
            Ok(n) => Ok(CharInput::Data(n)),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(CharInput::Idle)
            }
            Err(_) => {
                self.client = None;
                Ok(CharInput::Idle)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{drain, temp_path};

    #[test]
    fn unix_socket_serves_one_client() {
        let path = temp_path("sock");
        let mut server = UnixSocket::listen(&path).unwrap();
        assert!(!server.has_client());
        server.write(b"dropped").unwrap();
        let mut client = UnixStream::connect(&path).unwrap();
        assert!(server.has_client());
        server.write(b"to client").unwrap();
        let mut got = [0u8; 9];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"to client");
        client.write_all(b"from client").unwrap();
        let mut all = Vec::new();
        for _ in 0..100 {
            let (bytes, _) = drain(&mut server);
            all.extend(bytes);
            if all.len() >= 11 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(all, b"from client");
        drop(client);
        let mut buf = [0u8; 4];
        assert_eq!(server.read_input(&mut buf).unwrap(), CharInput::Idle);
        assert!(!server.has_client(), "a closed client is dropped");
        drop(server);
        assert!(!path.exists(), "the socket file is removed on drop");
    }
}
