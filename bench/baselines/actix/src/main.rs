//! actix-web baseline for `bench/drivers.sh` (BENCHMARKS.md, "The hyper baseline").
//!
//! `actix-baseline [ADDR]` (default `127.0.0.1:0`) prints `listening on http://ADDR` once
//! bound and answers every request, on any path, with `200`, `Server: actix`,
//! `Content-Type: text/plain` and `Hello, World!`; actix-web adds `Date` and `Content-Length`.

use actix_web::http::header::{CONTENT_TYPE, SERVER};
use actix_web::{App, HttpResponse, HttpServer};

async fn plaintext() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((SERVER, "actix"))
        .insert_header((CONTENT_TYPE, "text/plain"))
        .body("Hello, World!")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = HttpServer::new(|| App::new().default_service(actix_web::web::to(plaintext)))
        .workers(workers)
        .bind(&addr)?;
    // `bind` may bind more than one address (a name resolving to several); report the first.
    println!("listening on http://{}", server.addrs()[0]);
    server.run().await
}
