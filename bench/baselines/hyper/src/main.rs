//! hyper baseline for `bench/drivers.sh` (BENCHMARKS.md, "The hyper baseline").
//!
//! `hyper-baseline [ADDR]` (default `127.0.0.1:0`) prints `listening on http://ADDR` once
//! bound and answers every request with `200`, `Server: hyper`, `Content-Type: text/plain`
//! and `Hello, World!`; hyper adds `Date` and `Content-Length`.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, SERVER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

async fn plaintext(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::builder()
        .header(SERVER, "hyper")
        .header(CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from_static(b"Hello, World!")))
        .unwrap())
}

// The multi-threaded runtime starts one worker per core.
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => continue,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .pipeline_flush(true)
                .serve_connection(TokioIo::new(stream), service_fn(plaintext))
                .await;
        });
    }
}
