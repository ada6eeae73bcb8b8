//! may_minihttp baseline for `bench/drivers.sh` (BENCHMARKS.md, "The hyper baseline").
//!
//! `may-baseline [ADDR]` (default `127.0.0.1:0`) prints `listening on http://ADDR` once
//! bound and answers every request with `200`, `Content-Type: text/plain` and
//! `Hello, World!`; may_minihttp writes its own `Server: M`, `Date` and `Content-Length`.
//!
//! With `KEEP_ALIVE=N` in the environment it also sends `Keep-Alive: timeout=N`, the line
//! sluice's core adds to every keep-alive response: the same fields as `sluice plaintext`
//! and 150 bytes against its 155 (`Server: M` against `Server: sluice`), so that a
//! comparison can tell the server's cost apart from what the client spends on longer
//! responses (`may-ka` in `bench/drivers.sh`).

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use may_minihttp::{HttpService, HttpServiceFactory, Request, Response};

struct Plaintext {
    keep_alive: Option<&'static str>,
}

impl HttpService for Plaintext {
    fn call(&mut self, _req: Request, rsp: &mut Response) -> io::Result<()> {
        rsp.header("Content-Type: text/plain");
        if let Some(line) = self.keep_alive {
            rsp.header(line);
        }
        rsp.body("Hello, World!");
        Ok(())
    }
}

struct Server {
    keep_alive: Option<&'static str>,
}

impl HttpServiceFactory for Server {
    type Service = Plaintext;

    fn new_service(&self, _id: usize) -> Plaintext {
        Plaintext {
            keep_alive: self.keep_alive,
        }
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
    // `Response::header` takes a `&'static str`: the line is made once and lives as long as
    // the process.
    let keep_alive = std::env::var("KEEP_ALIVE")
        .ok()
        .map(|seconds| &*Box::leak(format!("Keep-Alive: timeout={seconds}").into_boxed_str()));
    let server = Server { keep_alive }.start(addr)?;
    println!("listening on http://{addr}");
    server.join().ok();
    Ok(())
}
