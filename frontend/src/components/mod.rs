//! Reusable console pieces: the page frame and form building blocks.

pub mod chart;
pub mod form;
pub mod layout;
pub mod report;
pub mod secret;
pub mod status;
