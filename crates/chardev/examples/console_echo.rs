//! Echoes what is typed back as hex, through a character backend, until the
//! backend asks to quit (`Ctrl-A x` on a terminal) or the input ends.
//!
//! `cargo run -p ferrite-devices --example console_echo [SPEC]` (default `stdio`).

use std::time::Duration;

use ferrite_chardev::{CharInput, parse_backend_spec};

fn main() {
    let spec = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "stdio".to_owned());
    let mut backend = match parse_backend_spec(&spec) {
        Ok(backend) => backend,
        Err(err) => {
            eprintln!("console_echo: {err}");
            std::process::exit(2);
        }
    };
    let mut buf = [0u8; 64];
    let mut idle_polls = 0;
    loop {
        match backend.read_input(&mut buf) {
            Ok(CharInput::Data(n)) => {
                idle_polls = 0;
                let text: Vec<String> = buf[..n].iter().map(|b| format!("{b:02x}")).collect();
                let line = format!("got {}\r\n", text.join(" "));
                if backend.write(line.as_bytes()).is_err() {
                    break;
                }
            }
            Ok(CharInput::Idle) => {
                idle_polls += 1;
                // A pipe that has ended stays idle; give up after a while.
                if idle_polls > 200 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(CharInput::Quit) => {
                let _ = backend.write(b"quit\r\n");
                break;
            }
            Err(err) => {
                eprintln!("console_echo: {err}");
                break;
            }
        }
    }
    drop(backend);
}
