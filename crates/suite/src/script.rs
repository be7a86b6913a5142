//! Console scripts evaluated in virtual time: `expect` waits for the guest
//! to print something, `send` types input. Input is queued only once the
//! guest's output has matched the step before it, and the match is looked
//! for between the scheduler's rounds (a fixed number of retired
//! instructions apart), so the moment the guest sees each byte depends on
//! what it printed, never on host time: the same script drives the same
//! session on every run.
//!
//! A script file has one step a line:
//!
//! ```text
//! # U-Boot: stop autoboot, ask for the version
//! expect Hit any key to stop autoboot
//! send \n
//! expect =>\s
//! sendline version
//! expect-re U-Boot 20\d\d
//! ```
//!
//! `expect TEXT` waits for TEXT, `expect-re REGEX` for a match of a regular
//! expression (multi-line mode: `^` and `$` match at line ends), `send TEXT`
//! queues TEXT, `sendline TEXT` queues TEXT and a newline. Texts take the
//! escapes `\n`, `\r`, `\t`, `\s` (space), `\\` and `\xHH`, so leading and
//! trailing spaces can be written. Blank lines and lines starting with `#`
//! are ignored. Each match starts after the end of the previous one.

use ferrite_machine::{ConsoleCapture, DebugEvent, Machine, RunLimits, RunOutcome};
use regex::bytes::Regex;

/// What a step waits for.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// These bytes, exactly.
    Text(Vec<u8>),
    /// A match of this regular expression.
    Regex(Regex),
}

impl Pattern {
    /// Where the first match in `haystack` ends, if there is one.
    pub fn find_end(&self, haystack: &[u8]) -> Option<usize> {
        match self {
            Pattern::Text(text) if text.is_empty() => Some(0),
            Pattern::Text(text) => haystack
                .windows(text.len())
                .position(|w| w == text.as_slice())
                .map(|at| at + text.len()),
            Pattern::Regex(re) => re.find(haystack).map(|m| m.end()),
        }
    }

    /// The pattern as a script would spell it, for messages.
    pub fn describe(&self) -> String {
        match self {
            Pattern::Text(text) => format!("{:?}", String::from_utf8_lossy(text)),
            Pattern::Regex(re) => format!("/{}/", re.as_str()),
        }
    }
}

/// One step of a script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Run until the output (after the previous match) matches.
    Expect(Pattern),
    /// Queue these bytes as console input.
    Send(Vec<u8>),
}

impl Step {
    /// The step as a script would spell it, for messages.
    pub fn describe(&self) -> String {
        match self {
            Step::Expect(p) => format!("expect {}", p.describe()),
            Step::Send(bytes) => format!("send {:?}", String::from_utf8_lossy(bytes)),
        }
    }
}

/// A script that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScriptError {
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Compiles a regular expression of a script (multi-line mode).
pub fn compile_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("(?m){pattern}")).map_err(|e| format!("bad regular expression: {e}"))
}

/// Decodes the escapes of a script text (`\n`, `\r`, `\t`, `\s`, `\\`,
/// `\xHH`).
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('s') => out.push(b' '),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = u8::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 2)
                    .ok_or_else(|| format!("`\\x` needs two hex digits, not `{hex}`"))?;
                out.push(byte);
            }
            Some(other) => return Err(format!("unknown escape `\\{other}`")),
            None => return Err("a `\\` ends the text".to_string()),
        }
    }
    Ok(out)
}

/// Parses a script file's text.
pub fn parse(text: &str) -> Result<Vec<Step>, ScriptError> {
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| ScriptError {
            line: i + 1,
            message,
        };
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        // The argument keeps its spaces except the one after the verb and
        // trailing ones (write `\s` for a trailing space).
        let arg = rest.trim_end_matches([' ', '\t', '\r']);
        let step = match verb {
            "expect" => Step::Expect(Pattern::Text(unescape(arg).map_err(err)?)),
            "expect-re" => Step::Expect(Pattern::Regex(compile_regex(arg).map_err(err)?)),
            "send" => Step::Send(unescape(arg).map_err(err)?),
            "sendline" => {
                let mut bytes = unescape(arg).map_err(err)?;
                bytes.push(b'\n');
                Step::Send(bytes)
            }
            other => {
                return Err(err(format!(
                    "unknown step `{other}` (expected expect, expect-re, send or sendline)"
                )));
            }
        };
        steps.push(step);
    }
    Ok(steps)
}

/// Why a scripted run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The machine's console is not captured, so the script cannot see it.
    #[error("a console script needs the captured console")]
    NotCaptured,
    /// The machine failed.
    #[error(transparent)]
    Machine(#[from] ferrite_machine::MachineError),
}

/// How a scripted run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    /// How the run ended.
    pub outcome: RunOutcome,
    /// Steps completed (all of them if the script ran to its end).
    pub steps_done: usize,
}

/// Where the output of a scripted run is copied as it appears.
pub type Echo<'e> = Option<&'e mut dyn FnMut(&[u8])>;

/// The script's progress over a captured console.
struct Cursor<'s> {
    steps: &'s [Step],
    capture: ConsoleCapture,
    /// Steps done.
    next: usize,
    /// Output before this offset belongs to earlier matches.
    matched_to: usize,
    /// Output length at the last look.
    seen_len: usize,
    /// Output already handed to the echo sink.
    echoed: usize,
}

impl Cursor<'_> {
    /// Does every step that can be done with the output so far.
    fn advance(&mut self) {
        while let Some(step) = self.steps.get(self.next) {
            match step {
                Step::Send(bytes) => self.capture.push_input(bytes),
                Step::Expect(pattern) => {
                    let fresh = self.capture.output_from(self.matched_to);
                    match pattern.find_end(&fresh) {
                        Some(end) => self.matched_to += end,
                        None => return,
                    }
                }
            }
            self.next += 1;
        }
    }

    /// Between two rounds: echoes new output and, if the guest printed
    /// something, moves the script on.
    fn look(&mut self, echo: &mut Echo<'_>) {
        let len = self.capture.len();
        if len == self.seen_len {
            return;
        }
        self.seen_len = len;
        if let Some(sink) = echo {
            sink(&self.capture.output_from(self.echoed));
            self.echoed = len;
        }
        self.advance();
    }
}

/// Runs `machine` (whose console must be captured,
/// [`ferrite_machine::SerialConfig::Capture`]) under `steps` within
/// `limits`, handing each piece of new output to `echo` as it appears. The
/// run goes on after the last step until the guest stops (set
/// [`ferrite_machine::MachineConfig::input_wait`] so that a guest left
/// waiting for input ends).
pub fn run(
    machine: &mut Machine,
    steps: &[Step],
    limits: &RunLimits,
    mut echo: Echo<'_>,
) -> Result<ScriptRun, RunError> {
    let capture = machine.console_capture().ok_or(RunError::NotCaptured)?;
    let mut cursor = Cursor {
        steps,
        capture,
        next: 0,
        matched_to: 0,
        seen_len: 0,
        echoed: 0,
    };
    // Steps before the first expect (input typed ahead) are queued before
    // the guest starts.
    cursor.advance();
    let outcome = loop {
        let mut look = || {
            cursor.look(&mut echo);
            false
        };
        match machine.debug_run(limits, Some(&mut look))? {
            DebugEvent::Ended(outcome) => break outcome,
            DebugEvent::Stopped { hart, .. } => {
                if let Some(h) = machine.hart(hart) {
                    h.resume_from_breakpoint();
                }
            }
            DebugEvent::Interrupted => {}
        }
    };
    // Output of the last slice: echoed, and a last chance to match.
    cursor.seen_len = usize::MAX;
    cursor.look(&mut echo);
    Ok(ScriptRun {
        outcome,
        steps_done: cursor.next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"a\sb\n\r\t\\\x41").unwrap(), b"a b\n\r\t\\A");
        assert!(unescape(r"\q").is_err());
        assert!(unescape(r"\x4").is_err());
        assert!(unescape("end\\").is_err());
    }

    #[test]
    fn parses_a_script_and_names_bad_lines() {
        let steps =
            parse("# comment\n\nexpect => \nsendline version\nexpect-re ^U-Boot\nsend \\x03\n")
                .unwrap();
        assert_eq!(steps.len(), 4);
        assert!(matches!(&steps[0], Step::Expect(Pattern::Text(t)) if t == b"=>"));
        assert!(matches!(&steps[1], Step::Send(b) if b == b"version\n"));
        assert_eq!(steps[2].describe(), "expect /(?m)^U-Boot/");
        assert!(matches!(&steps[3], Step::Send(b) if b == b"\x03"));
        let err = parse("expect a\nwait 10\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("unknown step `wait`"), "{err}");
        let err = parse("expect-re (\n").unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn patterns_find_the_end_of_the_first_match() {
        let text = Pattern::Text(b"=> ".to_vec());
        assert_eq!(text.find_end(b"abc=> x=> "), Some(6));
        assert_eq!(text.find_end(b"=>"), None);
        let re = Pattern::Regex(compile_regex(r"^v\d+$").unwrap());
        assert_eq!(re.find_end(b"x\nv12\ny"), Some(5));
        assert_eq!(re.find_end(b"xv12"), None);
    }
}
