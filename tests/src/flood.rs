//! Connections as a hostile client makes them: many at once, from a
//! loopback source address of the test's choosing (127.0.0.2 is not a
//! trusted peer of the test gateways).

use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};

/// A TCP connection from `source` (any port) to `127.0.0.1:port`.
pub fn connect_from(source: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    bind(
        fd.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(source, 0)),
    )?;
    connect(
        fd.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)),
    )?;
    Ok(TcpStream::from(fd))
}

/// Raises this process's soft open-files limit to at least `wanted` (up to
/// the hard limit), so that a test can hold a flood's connections open.
pub fn allow_open_files(wanted: u64) -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    let target = wanted.max(soft).min(hard);
    if target > soft {
        setrlimit(Resource::RLIMIT_NOFILE, target, hard).expect("setrlimit");
    }
    target
}
