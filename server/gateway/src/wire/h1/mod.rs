//! HTTP/1.1 on the wire, as both of the gateway's legs speak it: reading header
//! fields where they lie in a parsed head, and writing heads and bodies without
//! the formatting machinery. The connection loop (the caller's leg) and the
//! upstream client share these, so the two legs agree on every framing rule (data plane).

mod head;
mod send;

pub use head::{
    API_KEY, API_KEY_HEADER, Index, Known, Runs, Span, header_map, header_name, locate,
    plain_digits, push_decimal, push_hex, tokens,
};
pub use send::{Broke, Early, Waits, early, pump, push_framing, push_piece};
