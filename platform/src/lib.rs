//! tern-platform: the only crate of tern that talks to the operating system below std.
//!
//! Every `libc` call and every `unsafe` block of tern lives here, behind small safe
//! functions, one module per concern and, inside it, one implementation per OS
//! (Linux and illumos). The router itself (`src/`) is `#![forbid(unsafe_code)]` and
//! does not know which OS it runs on.
//!
//! Contents so far: nothing but the crate; TCP-MD5, minimum TTL and kernel routes arrive
//! with the session engine and FIB issues.

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
