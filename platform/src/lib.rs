//! tern-platform: the only crate of tern that talks to the operating system below std.
//!
//! Every `libc` call and every `unsafe` block of tern lives here, behind small safe
//! functions, one module per concern and, inside it, one implementation per OS (Linux and
//! illumos). The router itself (`src/`) is `#![forbid(unsafe_code)]` and does not know
//! which OS it runs on.
//!
//! - [`sockopt`]: TCP-MD5 signatures (RFC 2385) and the minimum incoming TTL / hop limit
//!   of GTSM (RFC 5082).
//! - [`process`]: the process's CPU time.

pub mod fib;
pub mod process;
pub mod sockopt;

/// The name of the operating system this build targets, for logs and `ternctl`.
pub fn os_name() -> &'static str {
    std::env::consts::OS
}

#[cfg(test)]
mod tests {
    #[test]
    fn os_name_is_known() {
        assert!(!super::os_name().is_empty());
    }
}
