//! SiFive test finisher (`sifive,test0`): the guest ends the run, reports a
//! failure code, or asks for a reset by writing one word at offset 0.
//!
//! | value written               | request                          |
//! |-----------------------------|----------------------------------|
//! | `0x5555`                    | [`FinisherRequest::Pass`]        |
//! | `(code << 16) \| 0x3333`    | [`FinisherRequest::Fail`]`(code)`|
//! | `0x7777`                    | [`FinisherRequest::Reset`]       |
//!
//! Anything else, and any other offset, is a guest error (logged, ignored);
//! reads return 0. The device only records the request; the machine polls
//! [`TestFinisher::take_request`] (or the shared slot from
//! [`TestFinisher::request_slot`]) between execution slices and acts on it,
//! and may register a notifier to stop the current slice at once.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, Endianness, IoDescriptor, MemTxAttrs, MemTxResult, RegionOps,
};

use crate::GUEST_ERRORS;

/// Size of the finisher's region on `virt`.
pub const REGION_SIZE: u64 = 0x1000;

const FINISHER_FAIL: u64 = 0x3333;
const FINISHER_PASS: u64 = 0x5555;
const FINISHER_RESET: u64 = 0x7777;

/// What the guest asked the finisher for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinisherRequest {
    /// Stop; the run passed (QEMU exits with status 0).
    Pass,
    /// Stop; the run failed with this code (QEMU exits with it as status).
    Fail(u16),
    /// Reset the machine.
    Reset,
}

impl FinisherRequest {
    /// The host exit status QEMU uses for this request, if it ends the run.
    pub fn exit_status(self) -> Option<i32> {
        match self {
            FinisherRequest::Pass => Some(0),
            FinisherRequest::Fail(code) => Some(i32::from(code)),
            FinisherRequest::Reset => None,
        }
    }
}

/// Called with each request as the guest makes it.
pub type FinisherNotifier = Box<dyn Fn(FinisherRequest)>;

/// The test finisher device.
pub struct TestFinisher {
    request: Rc<Cell<Option<FinisherRequest>>>,
    notifier: RefCell<Option<FinisherNotifier>>,
}

impl Default for TestFinisher {
    fn default() -> Self {
        TestFinisher::new()
    }
}

impl fmt::Debug for TestFinisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestFinisher")
            .field("request", &self.request.get())
            .finish()
    }
}

impl TestFinisher {
    /// A finisher with no request recorded.
    pub fn new() -> Self {
        TestFinisher {
            request: Rc::new(Cell::new(None)),
            notifier: RefCell::new(None),
        }
    }

    /// The shared slot the latest request is stored in (the machine may keep
    /// a clone and poll it).
    pub fn request_slot(&self) -> Rc<Cell<Option<FinisherRequest>>> {
        self.request.clone()
    }

    /// The latest request, leaving it recorded.
    pub fn request(&self) -> Option<FinisherRequest> {
        self.request.get()
    }

    /// The latest request, clearing it.
    pub fn take_request(&self) -> Option<FinisherRequest> {
        self.request.take()
    }

    /// Calls `notify` with every request as it is made (in addition to
    /// recording it), e.g. to end the current execution slice early.
    pub fn set_notifier(&self, notify: FinisherNotifier) {
        *self.notifier.borrow_mut() = Some(notify);
    }

    fn decode(value: u64) -> Option<FinisherRequest> {
        let code = (value >> 16) & 0xffff;
        match value & 0xffff {
            FINISHER_PASS => Some(FinisherRequest::Pass),
            FINISHER_FAIL => Some(FinisherRequest::Fail(code as u16)),
            FINISHER_RESET => Some(FinisherRequest::Reset),
            _ => None,
        }
    }
}

impl RegionOps for TestFinisher {
    fn read(&self, _offset: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Ok(0)
    }

    fn write(&self, offset: u64, value: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        let request = if offset == 0 {
            TestFinisher::decode(value)
        } else {
            None
        };
        match request {
            Some(request) => {
                self.request.set(Some(request));
                if let Some(notify) = self.notifier.borrow().as_ref() {
                    notify(request);
                }
            }
            None => tracing::warn!(
                target: GUEST_ERRORS,
                "test finisher: write addr=0x{offset:x} val=0x{value:016x}"
            ),
        }
        Ok(())
    }

    /// QEMU's `sifive_test_ops`: 2- to 4-byte accesses.
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints {
                min_access_size: 2,
                max_access_size: 4,
                unaligned: false,
            },
            implementation: AccessConstraints {
                min_access_size: 1,
                max_access_size: 4,
                unaligned: false,
            },
            endianness: Endianness::Little,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MemTxAttrs = MemTxAttrs {
        requester_id: 0,
        secure: false,
        debug: false,
    };

    #[test]
    fn pass_fail_reset() {
        let f = TestFinisher::new();
        let slot = f.request_slot();
        f.write(0, 0x5555, 4, A).unwrap();
        assert_eq!(slot.get(), Some(FinisherRequest::Pass));
        assert_eq!(f.take_request(), Some(FinisherRequest::Pass));
        assert_eq!(slot.get(), None, "take clears the shared slot");
        f.write(0, (42 << 16) | 0x3333, 4, A).unwrap();
        assert_eq!(f.request(), Some(FinisherRequest::Fail(42)));
        assert_eq!(f.request().and_then(FinisherRequest::exit_status), Some(42));
        f.write(0, 0x7777, 4, A).unwrap();
        assert_eq!(f.take_request(), Some(FinisherRequest::Reset));
        assert_eq!(FinisherRequest::Reset.exit_status(), None);
        f.write(0, 0x5555, 2, A).unwrap();
        assert_eq!(
            f.take_request(),
            Some(FinisherRequest::Pass),
            "16-bit writes work"
        );
    }

    #[test]
    fn invalid_writes_are_ignored() {
        let f = TestFinisher::new();
        f.write(0, 0x1234, 4, A).unwrap();
        f.write(4, 0x5555, 4, A).unwrap();
        assert_eq!(f.request(), None);
        assert_eq!(f.read(0, 4, A).unwrap(), 0);
    }

    #[test]
    fn notifier_sees_each_request() {
        let f = TestFinisher::new();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        f.set_notifier(Box::new(move |r| log.borrow_mut().push(r)));
        f.write(0, 0x5555, 4, A).unwrap();
        f.write(0, 0x1_3333, 4, A).unwrap();
        assert_eq!(
            *seen.borrow(),
            vec![FinisherRequest::Pass, FinisherRequest::Fail(1)]
        );
    }

    #[test]
    fn descriptor_matches_qemu() {
        let d = TestFinisher::new().descriptor();
        assert_eq!((d.valid.min_access_size, d.valid.max_access_size), (2, 4));
    }
}
