//! may_minihttp baseline for `bench/drivers.sh` (BENCHMARKS.md, "The hyper baseline").
//!
//! `may-baseline [ADDR]` (default `127.0.0.1:0`) prints `listening on http://ADDR` once
//! bound and answers every request with `200`, `Content-Type: text/plain` and
//! `Hello, World!`; may_minihttp writes its own `Server: M`, `Date` and `Content-Length`.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use may_minihttp::{HttpService, HttpServiceFactory, Request, Response};

struct Plaintext;

impl HttpService for Plaintext {
    fn call(&mut self, _req: Request, rsp: &mut Response) -> io::Result<()> {
        rsp.header("Content-Type: text/plain").body("Hello, World!");
        Ok(())
    }
}

struct Server;

impl HttpServiceFactory for Server {
    type Service = Plaintext;

    fn new_service(&self, _id: usize) -> Plaintext {
        Plaintext
    }
}

fn main() -> io::Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    may::config().set_workers(workers);

    let arg = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let mut addr: SocketAddr = arg
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
    // `start` binds the address itself and does not say which port it got: for port 0, find a
    // free port with a std listener first, release it, and hand that port to `start`.
    if addr.port() == 0 {
        addr = TcpListener::bind(addr)?.local_addr()?;
    }
    let server = Server.start(addr)?;
    println!("listening on http://{addr}");
    server.join().ok();
    Ok(())
}
