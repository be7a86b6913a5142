use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::*;

/// A blocking test client driven against the server in the same thread:
/// every wait polls the server until the bytes arrive.
struct TestClient {
    s: TcpStream,
}

impl TestClient {
    fn connect(server: &mut VncServer, surface: &Surface) -> TestClient {
        let s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
        let mut c = TestClient { s };
        assert_eq!(&c.read(server, surface, 12), b"RFB 003.008\n");
        c.send(b"RFB 003.008\n");
        assert_eq!(c.read(server, surface, 2), [1, 1], "one type: None");
        c.send(&[1]);
        assert_eq!(c.read(server, surface, 4), [0, 0, 0, 0], "security ok");
        c.send(&[1]);
        let init = c.read(server, surface, 24);
        assert_eq!(
            u16::from_be_bytes([init[0], init[1]]) as u32,
            surface.width()
        );
        assert_eq!(
            u16::from_be_bytes([init[2], init[3]]) as u32,
            surface.height()
        );
        let name_len = u32::from_be_bytes(init[20..24].try_into().unwrap()) as usize;
        assert_eq!(c.read(server, surface, name_len), b"ferrite");
        c
    }

    fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    fn read(&mut self, server: &mut VncServer, surface: &Surface, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        let mut got = 0;
        let start = Instant::now();
        while got < n {
            server.poll(Some(surface));
            match self.s.read(&mut out[got..]) {
                Ok(0) => panic!("server closed"),
                Ok(k) => got += k,
                Err(_) => assert!(start.elapsed() < Duration::from_secs(10), "timed out"),
            }
        }
        out
    }

    /// Nothing arrives within a few polls.
    fn silent(&mut self, server: &mut VncServer, surface: &Surface) -> bool {
        let mut b = [0u8; 1];
        for _ in 0..5 {
            server.poll(Some(surface));
            if let Ok(1) = self.s.read(&mut b) {
                return false;
            }
        }
        true
    }

    fn encodings(&mut self, list: &[i32]) {
        let mut m = vec![2, 0];
        m.extend_from_slice(&(list.len() as u16).to_be_bytes());
        for e in list {
            m.extend_from_slice(&e.to_be_bytes());
        }
        self.send(&m);
    }

    fn request(&mut self, incremental: bool, r: Rect) {
        let mut m = vec![3, u8::from(incremental)];
        for v in [r.x, r.y, r.w, r.h] {
            m.extend_from_slice(&(v as u16).to_be_bytes());
        }
        self.send(&m);
    }

    /// One FramebufferUpdate of raw rectangles in the server's format:
    /// (rect, pixels).
    fn raw_update(&mut self, server: &mut VncServer, surface: &Surface) -> Vec<(Rect, Vec<u32>)> {
        let h = self.read(server, surface, 4);
        assert_eq!(h[0], 0, "FramebufferUpdate");
        let n = u16::from_be_bytes([h[2], h[3]]);
        (0..n)
            .map(|_| {
                let r = self.read(server, surface, 12);
                let v = |i: usize| u32::from(u16::from_be_bytes([r[i], r[i + 1]]));
                let rect = Rect::new(v(0), v(2), v(4), v(6));
                assert_eq!(
                    i32::from_be_bytes(r[8..12].try_into().unwrap()),
                    encoding::RAW
                );
                let px = self.read(server, surface, (rect.w * rect.h * 4) as usize);
                let px = px
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], 0]))
                    .collect();
                (rect, px)
            })
            .collect()
    }
}

fn picture(w: u32, h: u32, seed: u32) -> Surface {
    let mut s = Surface::new(w, h);
    for y in 0..h {
        for x in 0..w {
            s.row_mut(y)[x as usize] = (x * 7 + y * 13 + seed) & 0xffffff;
        }
    }
    s
}

#[test]
fn a_client_gets_the_whole_picture_then_only_what_changed() {
    let mut server = VncServer::bind("127.0.0.1:0").unwrap();
    let mut s = picture(80, 40, 0);
    let mut c = TestClient::connect(&mut server, &s);
    c.encodings(&[encoding::RAW]);
    c.request(false, s.bounds());
    let u = c.raw_update(&mut server, &s);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].0, s.bounds());
    assert_eq!(u[0].1, s.pixels());

    // Nothing changed: an incremental request waits.
    c.request(true, s.bounds());
    assert!(c.silent(&mut server, &s));
    // Rows 10..12 change: only they are sent.
    for y in 10..12 {
        s.row_mut(y).fill(0xabcdef);
    }
    server.update(
        Some(&s),
        &Update {
            resized: false,
            rects: vec![Rect::new(0, 10, 80, 2)],
        },
    );
    let u = c.raw_update(&mut server, &s);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].0, Rect::new(0, 10, 80, 2));
    assert!(u[0].1.iter().all(|&p| p == 0xabcdef));
    // Key and pointer events are counted.
    c.send(&[4, 1, 0, 0, 0, 0, 0, 0x61]);
    c.send(&[5, 1, 0, 5, 0, 6]);
    assert!(c.silent(&mut server, &s));
    let counts = server.input();
    assert_eq!((counts.keys, counts.pointer, counts.raw_rects), (1, 1, 2));
}

#[test]
fn several_clients_are_served_each_their_own_way() {
    let mut server = VncServer::bind("127.0.0.1:0").unwrap();
    let s = picture(100, 70, 5);
    let mut raw = TestClient::connect(&mut server, &s);
    let mut zrle = TestClient::connect(&mut server, &s);
    assert_eq!(server.clients(), 2);
    raw.encodings(&[encoding::RAW]);
    zrle.encodings(&[encoding::ZRLE, encoding::RAW]);
    raw.request(false, s.bounds());
    zrle.request(false, s.bounds());
    let u = raw.raw_update(&mut server, &s);
    assert_eq!(u[0].1, s.pixels());
    let h = zrle.read(&mut server, &s, 16);
    assert_eq!(
        i32::from_be_bytes(h[12..16].try_into().unwrap()),
        encoding::ZRLE
    );
    let len = zrle.read(&mut server, &s, 4);
    let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
    let data = zrle.read(&mut server, &s, len);
    let mut z = flate2::Decompress::new(true);
    let mut tiles = Vec::with_capacity(1 << 20);
    z.decompress_vec(&data, &mut tiles, flate2::FlushDecompress::Sync)
        .unwrap();
    // 100×70 is 2×2 tiles; the first is raw (many colours): 64×64 CPIXELs.
    assert_eq!(tiles[0], 0, "raw tile");
    let first = &tiles[1..4];
    let p = s.pixel(0, 0);
    assert_eq!(first, [p as u8, (p >> 8) as u8, (p >> 16) as u8]);
    drop(raw);
    assert!(zrle.silent(&mut server, &s));
    assert_eq!(server.clients(), 1, "the closed client is gone");
}

#[test]
fn a_resize_reaches_clients_that_follow_desktop_size() {
    let mut server = VncServer::bind("127.0.0.1:0").unwrap();
    let s = picture(64, 64, 1);
    let mut c = TestClient::connect(&mut server, &s);
    c.encodings(&[encoding::RAW, encoding::DESKTOP_SIZE]);
    let big = picture(128, 96, 2);
    server.update(
        Some(&big),
        &Update {
            resized: true,
            rects: vec![big.bounds()],
        },
    );
    c.request(true, s.bounds());
    let h = c.read(&mut server, &big, 4);
    assert_eq!(u16::from_be_bytes([h[2], h[3]]), 2, "size, then pixels");
    let r = c.read(&mut server, &big, 12);
    assert_eq!(u16::from_be_bytes([r[4], r[5]]), 128);
    assert_eq!(u16::from_be_bytes([r[6], r[7]]), 96);
    assert_eq!(
        i32::from_be_bytes(r[8..12].try_into().unwrap()),
        encoding::DESKTOP_SIZE
    );
    let r = c.read(&mut server, &big, 12);
    assert_eq!(u16::from_be_bytes([r[4], r[5]]), 128);
    let px = c.read(&mut server, &big, 128 * 96 * 4);
    assert_eq!(
        u32::from_le_bytes([px[0], px[1], px[2], 0]),
        big.pixel(0, 0)
    );
}

#[test]
fn addresses_parse_with_localhost_by_default() {
    assert_eq!(parse_address(":5901").unwrap(), "127.0.0.1:5901");
    assert_eq!(parse_address("0.0.0.0:0").unwrap(), "0.0.0.0:0");
    assert!(parse_address("5900").is_err());
    assert!(parse_address("host:99999").is_err());
}
