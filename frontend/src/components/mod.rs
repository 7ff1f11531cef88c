//! Reusable console pieces: the page frame and form building blocks.

pub mod chart;
pub mod form;
pub mod layout;
pub mod report;
pub mod secret;
pub mod status;

/// Asks the user to confirm something destructive or privilege-raising; on the
/// server, where nothing is ever clicked, the answer is no.
pub fn confirm(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.confirm_with_message(text).ok())
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}
