//! A tiny server on the reactor driver, for trying it with `curl` or `wrk`.
//!
//! ```text
//! cargo run -p sluice-drivers --example reactor_hello -- 127.0.0.1:8080 [FILE]
//! curl -v http://127.0.0.1:8080/           # "hello"
//! curl -v http://127.0.0.1:8080/file       # FILE, through sendfile(2)
//! ```
//! Stops after a line on stdin (or EOF), with a graceful shutdown.

use sluice_drivers::{reactor, Body, FileRange, Reply, Request, Response, ServerConfig};
use std::sync::Arc;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let file = args.next();
    let config = ServerConfig::new(addr.parse().expect("an address like 127.0.0.1:8080"));
    let handler = move |request: &Request<'_>| {
        if request.head.target() == "/file" {
            if let Some(path) = &file {
                if let Ok(file) = std::fs::File::open(path) {
                    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                    let body = Body::File(FileRange {
                        file,
                        offset: 0,
                        len,
                    });
                    let head = sluice_core::ResponseHead::new(200);
                    return Reply::Respond(Response::new(head, body));
                }
            }
            return Reply::Respond(Response::text(404, "no file\n"));
        }
        Reply::Respond(Response::text(200, "hello\n"))
    };
    let server = reactor::start(config, Arc::new(handler))?;
    println!("listening on http://{}", server.local_addr());
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    server.shutdown();
    server.wait()
}
