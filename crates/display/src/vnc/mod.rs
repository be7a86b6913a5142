//! A VNC server (RFB 3.8, RFC 6143), written here because no maintained
//! crate serves RFB: the crates that exist are clients or unmaintained.
//!
//! * Handshake: versions 3.3, 3.7 and 3.8; security type None (the server
//!   listens on the address given, 127.0.0.1 by default: there is no
//!   password).
//! * Encodings: Raw and ZRLE (the first of them the client lists, Raw when
//!   it lists neither), and the DesktopSize pseudo-encoding for mode
//!   changes; any true-colour pixel format the client sets.
//! * Updates are incremental: each refresh's dirty rectangles are added to
//!   every client's pending region, and a client's update request is
//!   answered with the part of that region it asked for (a non-incremental
//!   request with the whole area asked for).
//! * Several clients at once, each with its own state and zlib stream.
//! * Key and pointer events are received, counted and logged (target
//!   `vnc`) until a guest input device exists.
//!
//! All I/O is non-blocking and happens in [`Backend::poll`], which the
//! machine calls after every refresh and while the guest idles, so the
//! guest's run never waits for a client.

mod encode;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

pub use encode::{PixelFormat, ZrleEncoder, encoding};

use crate::{Backend, DisplayError, Rect, Surface, Update};

/// The desktop name sent to clients.
const DESKTOP_NAME: &str = "ferrite";

/// A client whose unsent output passes this many bytes gets no new updates
/// until it has read them.
const BACKLOG_LIMIT: usize = 16 << 20;

/// Pending dirty rectangles per client beyond which they merge into one.
const MAX_RECTS: usize = 64;

/// `HOST:PORT` with an empty host meaning 127.0.0.1; the text returned is
/// what to bind.
pub fn parse_address(addr: &str) -> Result<String, String> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| "expected vnc:HOST:PORT".to_string())?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("port {port:?} is not a number from 0 to 65535"))?;
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    Ok(format!("{host}:{port}"))
}

/// Counts of what the clients sent and were sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputCounts {
    /// Key events (presses and releases).
    pub keys: u64,
    /// Pointer events.
    pub pointer: u64,
    /// Rectangles sent raw.
    pub raw_rects: u64,
    /// Rectangles sent ZRLE-encoded.
    pub zrle_rects: u64,
}

/// The VNC server back-end.
#[derive(Debug)]
pub struct VncServer {
    listener: TcpListener,
    addr: SocketAddr,
    clients: Vec<Client>,
    input: InputCounts,
    /// Clients served since the start.
    connected: u64,
    /// The picture clients see while the guest shows none.
    blank: Surface,
}

impl VncServer {
    /// Listen on `addr` (`HOST:PORT`; port 0 picks a free port).
    pub fn bind(addr: &str) -> Result<Self, DisplayError> {
        let err = |source| DisplayError::Vnc {
            addr: addr.into(),
            source,
        };
        let listener = TcpListener::bind(addr).map_err(err)?;
        listener.set_nonblocking(true).map_err(err)?;
        let addr = listener.local_addr().map_err(err)?;
        let (w, h) = crate::png::BLANK_SIZE;
        Ok(VncServer {
            listener,
            addr,
            clients: Vec::new(),
            input: InputCounts::default(),
            connected: 0,
            blank: Surface::new(w, h),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// Input events received so far.
    pub fn input(&self) -> InputCounts {
        self.input
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if let Err(e) = stream
                        .set_nonblocking(true)
                        .and_then(|()| stream.set_nodelay(true))
                    {
                        tracing::warn!(target: "vnc", "{peer}: {e}");
                        continue;
                    }
                    tracing::info!(target: "vnc", "client {peer} connected");
                    self.connected += 1;
                    self.clients.push(Client::new(stream, peer));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::warn!(target: "vnc", "accept: {e}");
                    break;
                }
            }
        }
    }
}

impl Backend for VncServer {
    fn describe(&self) -> String {
        format!("vnc:{}", self.addr)
    }

    fn update(&mut self, surface: Option<&Surface>, update: &Update) {
        for c in &mut self.clients {
            c.mark(update);
        }
        self.poll(surface);
    }

    fn poll(&mut self, surface: Option<&Surface>) {
        self.accept();
        let surface = surface.unwrap_or(&self.blank);
        let input = &mut self.input;
        self.clients
            .retain_mut(|c| match c.service(surface, input) {
                Ok(()) => true,
                Err(why) => {
                    tracing::info!(target: "vnc", "client {} gone: {why}", c.peer);
                    false
                }
            });
    }

    fn is_interactive(&self) -> bool {
        true
    }

    fn status(&self) -> String {
        format!(
            "vnc:{}: {} client(s) now, {} in all; {} key event(s), {} pointer event(s); rectangles sent: {} raw, {} ZRLE",
            self.addr,
            self.clients.len(),
            self.connected,
            self.input.keys,
            self.input.pointer,
            self.input.raw_rects,
            self.input.zrle_rects
        )
    }
}

/// Where a connection is in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Sent our version; waiting for the client's (12 bytes).
    Version,
    /// Sent the security types (3.7+); waiting for the client's choice.
    Security,
    /// Waiting for ClientInit (1 byte).
    ClientInit,
    /// Normal messages.
    Normal,
}

/// An update request waiting for something to send.
#[derive(Clone, Copy, Debug)]
struct Request {
    incremental: bool,
    area: Rect,
}

/// One connection.
#[derive(Debug)]
struct Client {
    stream: TcpStream,
    peer: SocketAddr,
    phase: Phase,
    minor: u8,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    format: PixelFormat,
    encoding: i32,
    desktop_size: bool,
    request: Option<Request>,
    dirty: Vec<Rect>,
    /// The framebuffer size the client knows.
    size: (u32, u32),
    resized: bool,
    zrle: ZrleEncoder,
}

impl Client {
    fn new(stream: TcpStream, peer: SocketAddr) -> Self {
        let mut c = Client {
            stream,
            peer,
            phase: Phase::Version,
            minor: 8,
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            format: PixelFormat::SERVER,
            encoding: encoding::RAW,
            desktop_size: false,
            request: None,
            dirty: Vec::new(),
            size: (0, 0),
            resized: false,
            zrle: ZrleEncoder::default(),
        };
        c.outbuf.extend_from_slice(b"RFB 003.008\n");
        c
    }

    /// Add a refresh's changes to what the client has not seen.
    fn mark(&mut self, update: &Update) {
        self.resized |= update.resized;
        for r in &update.rects {
            self.dirty.push(*r);
        }
        if self.dirty.len() > MAX_RECTS {
            let all = self.dirty.iter().fold(Rect::default(), |a, r| a.union(r));
            self.dirty = vec![all];
        }
    }

    /// Read what arrived, act on it, send what can be sent.
    fn service(&mut self, s: &Surface, input: &mut InputCounts) -> Result<(), String> {
        self.flush()?;
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Err("closed".into()),
                Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        while self.step(s, input)? {}
        if self.phase == Phase::Normal && self.outbuf.len() < BACKLOG_LIMIT {
            self.answer(s, input);
        }
        self.flush()
    }

    /// Write as much of the output as the socket takes.
    fn flush(&mut self) -> Result<(), String> {
        while !self.outbuf.is_empty() {
            match self.stream.write(&self.outbuf) {
                Ok(0) => return Err("closed".into()),
                Ok(n) => {
                    self.outbuf.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Take one message from the input; `Ok(false)` when it is incomplete.
    fn step(&mut self, s: &Surface, input: &mut InputCounts) -> Result<bool, String> {
        let b = &self.inbuf;
        let used = match self.phase {
            Phase::Version => {
                if b.len() < 12 {
                    return Ok(false);
                }
                let minor = match &b[..12] {
                    b"RFB 003.003\n" => 3,
                    b"RFB 003.007\n" => 7,
                    v if v.starts_with(b"RFB 003.") => 8,
                    _ => return Err("not an RFB client".into()),
                };
                self.minor = minor;
                if minor == 3 {
                    // 3.3: the server picks None and skips the result.
                    self.outbuf.extend_from_slice(&1u32.to_be_bytes());
                    self.phase = Phase::ClientInit;
                } else {
                    self.outbuf.extend_from_slice(&[1, 1]);
                    self.phase = Phase::Security;
                }
                12
            }
            Phase::Security => {
                let Some(&choice) = b.first() else {
                    return Ok(false);
                };
                if choice != 1 {
                    return Err(format!("security type {choice} not offered"));
                }
                if self.minor >= 8 {
                    self.outbuf.extend_from_slice(&0u32.to_be_bytes());
                }
                self.phase = Phase::ClientInit;
                1
            }
            Phase::ClientInit => {
                if b.is_empty() {
                    return Ok(false);
                }
                self.server_init(s);
                self.phase = Phase::Normal;
                1
            }
            Phase::Normal => match self.message(input)? {
                Some(n) => n,
                None => return Ok(false),
            },
        };
        self.inbuf.drain(..used);
        Ok(true)
    }

    fn server_init(&mut self, s: &Surface) {
        self.size = (s.width(), s.height());
        self.resized = false;
        self.dirty.clear();
        let o = &mut self.outbuf;
        o.extend_from_slice(&(s.width() as u16).to_be_bytes());
        o.extend_from_slice(&(s.height() as u16).to_be_bytes());
        o.extend_from_slice(&PixelFormat::SERVER.to_bytes());
        o.extend_from_slice(&(DESKTOP_NAME.len() as u32).to_be_bytes());
        o.extend_from_slice(DESKTOP_NAME.as_bytes());
    }

    /// One client-to-server message: its length once complete.
    fn message(&mut self, input: &mut InputCounts) -> Result<Option<usize>, String> {
        let b = &self.inbuf;
        let Some(&kind) = b.first() else {
            return Ok(None);
        };
        let need = |n: usize| (b.len() >= n).then_some(n);
        match kind {
            0 => {
                let Some(n) = need(20) else { return Ok(None) };
                let pf: [u8; 16] = b[4..20].try_into().expect("16 bytes");
                self.format = PixelFormat::from_bytes(&pf)?;
                Ok(Some(n))
            }
            2 => {
                let Some(_) = need(4) else { return Ok(None) };
                let count = usize::from(u16::from_be_bytes([b[2], b[3]]));
                let Some(n) = need(4 + 4 * count) else {
                    return Ok(None);
                };
                let list: Vec<i32> = b[4..n]
                    .chunks_exact(4)
                    .map(|c| i32::from_be_bytes(c.try_into().expect("4 bytes")))
                    .collect();
                self.encoding = list
                    .iter()
                    .copied()
                    .find(|&e| e == encoding::RAW || e == encoding::ZRLE)
                    .unwrap_or(encoding::RAW);
                self.desktop_size = list.contains(&encoding::DESKTOP_SIZE);
                tracing::debug!(target: "vnc", "{}: encodings {list:?}, using {}", self.peer, self.encoding);
                Ok(Some(n))
            }
            3 => {
                let Some(n) = need(10) else { return Ok(None) };
                let v = |i: usize| u32::from(u16::from_be_bytes([b[i], b[i + 1]]));
                self.request = Some(Request {
                    incremental: b[1] != 0,
                    area: Rect::new(v(2), v(4), v(6), v(8)),
                });
                Ok(Some(n))
            }
            4 => {
                let Some(n) = need(8) else { return Ok(None) };
                let key = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                input.keys += 1;
                tracing::info!(target: "vnc", "{}: key {key:#x} {}", self.peer, if b[1] != 0 { "down" } else { "up" });
                Ok(Some(n))
            }
            5 => {
                let Some(n) = need(6) else { return Ok(None) };
                input.pointer += 1;
                let (x, y) = (
                    u16::from_be_bytes([b[2], b[3]]),
                    u16::from_be_bytes([b[4], b[5]]),
                );
                tracing::debug!(target: "vnc", "{}: pointer {x},{y} buttons {:#04b}", self.peer, b[1]);
                Ok(Some(n))
            }
            6 => {
                let Some(_) = need(8) else { return Ok(None) };
                let len = u32::from_be_bytes([b[4], b[5], b[6], b[7]]) as usize;
                if len > 1 << 20 {
                    return Err("cut text over 1 MiB".into());
                }
                Ok(need(8 + len))
            }
            other => Err(format!("unknown message type {other}")),
        }
    }

    /// Answer the pending update request if there is something to send.
    fn answer(&mut self, s: &Surface, counts: &mut InputCounts) {
        let Some(req) = self.request else { return };
        let bounds = s.bounds();
        // A client that cannot follow size changes keeps the size it was
        // told at the start and sees what fits in it.
        let known = Rect::new(0, 0, self.size.0, self.size.1);
        let visible = if self.desktop_size {
            bounds
        } else {
            bounds.intersect(&known)
        };
        let mut rects: Vec<Rect> = Vec::new();
        let mut desktop = false;
        if self.desktop_size && (s.width(), s.height()) != self.size {
            self.size = (s.width(), s.height());
            desktop = true;
            rects.push(bounds);
        } else if self.resized {
            rects.push(visible);
        } else if !req.incremental {
            rects.push(req.area.intersect(&visible));
        } else {
            for r in &self.dirty {
                let r = r.intersect(&req.area).intersect(&visible);
                if !r.is_empty() {
                    rects.push(r);
                }
            }
            if rects.is_empty() {
                return;
            }
        }
        self.resized = false;
        self.dirty.clear();
        self.request = None;
        rects.retain(|r| !r.is_empty());
        let count = rects.len() + usize::from(desktop);
        let o = &mut self.outbuf;
        o.extend_from_slice(&[0, 0]);
        o.extend_from_slice(&(count as u16).to_be_bytes());
        if desktop {
            encode::rect_header(
                o,
                &Rect::new(0, 0, s.width(), s.height()),
                encoding::DESKTOP_SIZE,
            );
        }
        for r in &rects {
            encode::rect_header(o, r, self.encoding);
            if self.encoding == encoding::ZRLE {
                self.zrle.encode(o, s, r, &self.format);
                counts.zrle_rects += 1;
            } else {
                encode::raw(o, s, r, &self.format);
                counts.raw_rects += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests;
