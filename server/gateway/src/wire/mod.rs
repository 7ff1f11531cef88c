//! The wire layer (data plane): HTTP/1.1 as both of the gateway's legs speak it.
//! The listener and its connection loop, heads parsed in place, the upstream
//! client with its per-thread pool and TLS, and the headers written beside an answer.
//! It knows no policy: the pipeline hands it a request to forward and an
//! [`App`](serve::App) to call, and nothing here imports from the pipeline.

pub mod client;
pub mod connection;
pub mod fields;
pub mod h1;
pub mod serve;
pub mod stamp;
pub mod tls;
