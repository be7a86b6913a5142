//! Virtual-memory translation (Sv39, Sv48).
