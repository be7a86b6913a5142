//! Selection of the interrupt to take next.
