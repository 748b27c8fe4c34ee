//! Socket options std and socket2 do not offer: TCP-MD5 keys and minimum incoming TTL.
//!
//! Linux: `TCP_MD5SIG` takes one key per peer address, set on a listening socket (for the
//! connections it will accept) or on a socket before `connect`; `IP_MINTTL` and
//! `IPV6_MINHOPCOUNT` drop segments that arrive with a lower TTL / hop limit.
//!
//! illumos: `IP_MINTTL` and `IPV6_MINHOPCOUNT` exist; TCP-MD5 keys are managed through
//! PF_KEY security associations rather than a socket option, which tern does not drive yet,
//! so [`set_tcp_md5`] reports `Unsupported` there with a message saying so.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Longest TCP-MD5 key Linux accepts (`TCP_MD5SIG_MAXKEYLEN`).
pub const MD5_MAX_KEY_LEN: usize = 80;

/// Flags for a send that must never block (nor raise SIGPIPE where the system can say so).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub const SEND_NOWAIT: libc::c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub const SEND_NOWAIT: libc::c_int = libc::MSG_DONTWAIT;

fn setsockopt<T>(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    let len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `fd` is a live descriptor for the duration of the borrow, `value` points to a
    // properly initialised `T` of exactly `len` bytes that outlives the call, and the kernel
    // only reads from it.
    let rc = unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (value as *const T).cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Drops incoming segments whose TTL (IPv4) or hop limit (IPv6) is below `min`. `ipv6`
/// says which family the socket is; an IPv6 socket carrying IPv4-mapped traffic gets both.
pub fn set_min_ttl(fd: BorrowedFd<'_>, ipv6: bool, min: u8) -> io::Result<()> {
    let value = libc::c_int::from(min);
    if ipv6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &value)?;
        // Dual-stack sockets see IPv4 peers as mapped addresses; the IPv4 option covers
        // them. Failure here only means the socket is IPv6-only.
        let _ = setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &value);
        Ok(())
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &value)
    }
}

#[cfg(target_os = "linux")]
mod md5 {
    use super::*;

    /// `struct tcp_md5sig` from <linux/tcp.h>.
    #[repr(C)]
    struct TcpMd5Sig {
        addr: libc::sockaddr_storage,
        flags: u8,
        prefixlen: u8,
        keylen: u16,
        ifindex: libc::c_int,
        key: [u8; MD5_MAX_KEY_LEN],
    }

    pub fn set(fd: BorrowedFd<'_>, ipv6_socket: bool, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
        let key = key.unwrap_or_default();
        if key.len() > MD5_MAX_KEY_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("TCP-MD5 key longer than {MD5_MAX_KEY_LEN} octets"),
            ));
        }
        // SAFETY: all-zero bytes are a valid value for this plain-data C struct.
        let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
        // An IPv6 socket sees IPv4 peers as IPv4-mapped addresses and matches keys that way.
        let peer = match (peer, ipv6_socket) {
            (IpAddr::V4(v4), true) => IpAddr::V6(v4.to_ipv6_mapped()),
            (p, _) => p,
        };
        let storage = std::ptr::addr_of_mut!(sig.addr);
        match peer {
            IpAddr::V4(v4) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: 0,
                    sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.octets()) },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and suitably aligned for
                // sockaddr_in, and `storage` points into `sig`, which we own.
                unsafe { storage.cast::<libc::sockaddr_in>().write(sin) };
            }
            IpAddr::V6(v6) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: 0,
                    sin6_flowinfo: 0,
                    sin6_addr: libc::in6_addr { s6_addr: v6.octets() },
                    sin6_scope_id: 0,
                };
                // SAFETY: as above, for sockaddr_in6.
                unsafe { storage.cast::<libc::sockaddr_in6>().write(sin6) };
            }
        }
        sig.keylen = key.len() as u16;
        sig.key[..key.len()].copy_from_slice(key);
        setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)
    }
}

#[cfg(not(target_os = "linux"))]
mod md5 {
    use super::*;

    pub fn set(_fd: BorrowedFd<'_>, _ipv6_socket: bool, _peer: IpAddr, _key: Option<&[u8]>) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "TCP-MD5 is not supported by tern on {} yet (keys there are PF_KEY security associations)",
                std::env::consts::OS
            ),
        ))
    }
}

/// Installs (`Some`) or removes (`None`) the TCP-MD5 key for connections with `peer` on
/// this socket. `ipv6_socket` says whether the socket is of the IPv6 family.
pub fn set_tcp_md5(fd: BorrowedFd<'_>, ipv6_socket: bool, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
    md5::set(fd, ipv6_socket, peer, key)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};
    use std::os::fd::AsFd;

    #[test]
    fn options_apply_to_a_real_socket() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let too_long = [0u8; MD5_MAX_KEY_LEN + 1];
        assert!(set_tcp_md5(l.as_fd(), false, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(&too_long)).is_err());
        // `make cross` runs this under qemu-user, which does not pass these options through to
        // the kernel (IP_MINTTL fails with ENOPROTOOPT, TCP_MD5SIG with EINVAL); it says so by
        // setting TERN_TEST_EMULATOR.
        if let Some(emulator) = std::env::var_os("TERN_TEST_EMULATOR") {
            eprintln!("IP_MINTTL and TCP_MD5SIG not exercised under {emulator:?}");
            return;
        }
        set_min_ttl(l.as_fd(), false, 255).unwrap();
        set_tcp_md5(l.as_fd(), false, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(b"secret")).unwrap();
        set_tcp_md5(l.as_fd(), false, IpAddr::V4(Ipv4Addr::LOCALHOST), None).unwrap();
    }
}
