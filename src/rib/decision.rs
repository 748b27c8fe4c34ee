//! The decision process (RFC 4271 §9.1.2.2): which path of a prefix is best, and why.
