//! Level shortcuts over the host's `log` import.
//!
//! ```ignore
//! use guest_support::log;
//! log::info("cycle started");
//! guest_support::warn!("{} channel states unreadable", n);
//! ```
//!
//! The host rate-limits (64 lines per call) and truncates (1 KiB per line); the formatting
//! macros format into a 1 KiB stack buffer, so they work even when the allocator does not.
//!
//! Native builds (unit tests) have no host: a line goes to stderr and is kept, per thread, for
//! [`take_captured`], so a test can assert what a helper logged.

use core::fmt;

pub use crate::logging::Level;

/// Longest line the host keeps; the formatting macros truncate here (at a character boundary).
pub const MAX_LINE: usize = 1024;

/// Sends one line to the host's log.
pub fn write(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::logging::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    native::write(level, message);
}

/// Formats without allocating (truncating at [`MAX_LINE`] bytes) and sends the line.
pub fn write_fmt(level: Level, args: fmt::Arguments<'_>) {
    use fmt::Write as _;
    let mut buf = crate::FixedBuf::<MAX_LINE>::new();
    let _ = buf.write_fmt(args);
    write(level, buf.as_str());
}

pub fn trace(message: &str) {
    write(Level::Trace, message);
}

pub fn debug(message: &str) {
    write(Level::Debug, message);
}

pub fn info(message: &str) {
    write(Level::Info, message);
}

pub fn warn(message: &str) {
    write(Level::Warn, message);
}

pub fn error(message: &str) {
    write(Level::Error, message);
}

/// `log!(Warn, "format {}", args)`: a formatted line at the given [`Level`] variant.
#[macro_export]
macro_rules! log {
    ($level:ident, $($arg:tt)+) => {
        $crate::log::write_fmt($crate::log::Level::$level, format_args!($($arg)+))
    };
}

/// `trace!("format {}", args)`
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log!(Trace, $($arg)+) };
}

/// `debug!("format {}", args)`
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log!(Debug, $($arg)+) };
}

/// `info!("format {}", args)`
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log!(Info, $($arg)+) };
}

/// `warn!("format {}", args)`
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log!(Warn, $($arg)+) };
}

/// `error!("format {}", args)`
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log!(Error, $($arg)+) };
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::take_captured;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::Level;
    use std::{cell::RefCell, eprintln, string::String, vec::Vec};

    std::thread_local! {
        static CAPTURED: RefCell<Vec<(Level, String)>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn write(level: Level, message: &str) {
        eprintln!("[policy {level:?}] {message}");
        CAPTURED.with(|lines| lines.borrow_mut().push((level, message.into())));
    }

    /// Native builds only: the lines this thread logged since the last call, oldest first.
    pub fn take_captured() -> Vec<(Level, String)> {
        CAPTURED.with(|lines| core::mem::take(&mut *lines.borrow_mut()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn shortcuts_and_macros_reach_the_log_at_their_level() {
        let _ = take_captured();
        info("plain");
        crate::warn!("formatted {} of {}", 3, 4);
        crate::log!(Debug, "explicit {}", "level");
        let lines = take_captured();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], (Level::Info, "plain".into()));
        assert_eq!(lines[1], (Level::Warn, "formatted 3 of 4".into()));
        assert_eq!(lines[2], (Level::Debug, "explicit level".into()));
        assert!(take_captured().is_empty(), "taking clears");
    }

    #[test]
    fn formatted_lines_are_truncated_at_the_host_limit() {
        let _ = take_captured();
        let long: String = core::iter::repeat_n('é', MAX_LINE).collect();
        crate::error!("{long}");
        let lines = take_captured();
        assert!(lines[0].1.len() <= MAX_LINE);
        assert!(
            lines[0].1.len() > MAX_LINE - 2,
            "only the last partial character is cut"
        );
    }
}
