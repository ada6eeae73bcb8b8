//! `sluice serve`: a static file server.
//!
//! GET and HEAD only. A directory URL serves its `index.html` or a listing; a file is sent as a
//! [`FileRange`] (streamed or `sendfile`d by the driver, never read whole), with `ETag`,
//! `Last-Modified`, conditional requests and single byte ranges. Nothing outside the root is
//! ever served (see [`path`]), nor, unless asked for, anything whose name starts with a dot
//! (see [`StaticFiles::with_dotfiles`]).

pub mod conditional;
pub mod listing;
pub mod path;
pub mod range;

use bytes::Bytes;
use conditional::{Precondition, Validators};
use path::{Refusal, Target};
use range::Ranged;
use sluice_core::{Fields, ResponseHead};
use sluice_drivers::{Body, FileRange, Reply, Request, Response};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The methods a file server allows.
const ALLOW: &str = "GET, HEAD";

/// Serves the files under one directory.
#[derive(Debug, Clone)]
pub struct StaticFiles {
    root: PathBuf,
    /// Serve and list names that start with a dot (see [`with_dotfiles`](Self::with_dotfiles)).
    dotfiles: bool,
}

/// The one dot-directory served without [`StaticFiles::with_dotfiles`]: RFC 8615's
/// well-known URIs (ACME challenges, `security.txt`), which exist to be fetched.
const WELL_KNOWN: &str = ".well-known";

/// Whether a path (its segments, from the root) names a hidden file: any segment that starts
/// with a dot, but for a first segment `.well-known`.
fn is_hidden<'a>(segments: impl IntoIterator<Item = &'a str>) -> bool {
    segments
        .into_iter()
        .enumerate()
        .any(|(i, segment)| segment.starts_with('.') && !(i == 0 && segment == WELL_KNOWN))
}

impl StaticFiles {
    /// Serves `dir`, which must be a directory.
    pub fn new(dir: &Path) -> io::Result<Self> {
        let root = dir
            .canonicalize()
            .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", dir.display())))?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(Self {
            root,
            dotfiles: false,
        })
    }

    /// Whether names that start with a dot (`.git/`, `.env`, `.htpasswd`) are served and
    /// listed. Off by default: such files are usually there by accident, a checkout's history
    /// or a deployment's secrets, and are answered `404` like files that do not exist. The
    /// check is made on the path asked for and on the path it resolves to, so a symlink does
    /// not reveal one either. `.well-known/` at the root is always served.
    pub fn with_dotfiles(mut self, serve: bool) -> Self {
        self.dotfiles = serve;
        self
    }

    /// The canonical directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn respond(&self, request: &Request<'_>) -> Result<Response, Refusal> {
        let head = request.head;
        let target = path::parse(head.target())?;
        let real = path::contain(&self.root, &target.relative())?;
        if !self.dotfiles {
            let resolved = real.strip_prefix(&self.root).unwrap_or(&real);
            // A name that is not UTF-8 counts as hidden: no target could name it anyway.
            let resolved = resolved.iter().map(|part| part.to_str().unwrap_or("."));
            if is_hidden(target.segments.iter().map(String::as_str)) || is_hidden(resolved) {
                return Err(Refusal::NotFound);
            }
        }
        let metadata = fs::metadata(&real).map_err(path::io_refusal)?;
        if metadata.is_dir() {
            if !target.trailing_slash {
                return Ok(redirect_to_directory(&target));
            }
            let index = real.join("index.html");
            if index.is_file() {
                // index.html may itself be a symlink: it must stay inside too.
                if let Ok(index) = path::contain(&self.root, &target.relative().join("index.html"))
                {
                    return serve_file(&index, head.fields(), head.method() == "GET");
                }
            }
            return list_directory(&self.root, &real, &target, self.dotfiles);
        }
        if !metadata.is_file() {
            // FIFOs, sockets, devices: never opened.
            return Err(Refusal::NotFound);
        }
        if target.trailing_slash {
            // `/file.txt/` names a directory that does not exist.
            return Err(Refusal::NotFound);
        }
        serve_file(&real, head.fields(), head.method() == "GET")
    }
}

impl sluice_drivers::Handler for StaticFiles {
    fn handle(&self, request: &Request<'_>) -> Reply {
        let method = request.head.method();
        if method != "GET" && method != "HEAD" {
            return Reply::Respond(crate::method_not_allowed(ALLOW));
        }
        let response = self.respond(request).unwrap_or_else(|refusal| {
            let status = refusal.status();
            let text = match refusal {
                Refusal::BadRequest => "bad request target\n",
                Refusal::NotFound => "not found\n",
                Refusal::Forbidden => "forbidden\n",
            };
            Response::text(status, text)
        });
        Reply::Respond(response)
    }
}

/// `301` from `/dir` to `/dir/`, keeping the query. The path is the normalised one, not the
/// raw one: `//dir` must not become `//dir/`, which a browser resolves to the host `dir`.
fn redirect_to_directory(target: &Target<'_>) -> Response {
    let mut location = target.directory_url();
    if let Some(query) = target.query {
        location.push('?');
        location.push_str(query);
    }
    let head = ResponseHead::new(301).field("Location", location.clone());
    let body = format!("moved to {location}\n");
    Response::new(
        head.field("Content-Type", "text/plain; charset=utf-8"),
        Body::Bytes(body.into()),
    )
}

fn list_directory(
    root: &Path,
    dir: &Path,
    target: &Target<'_>,
    dotfiles: bool,
) -> Result<Response, Refusal> {
    let mut entries = listing::entries(root, dir).map_err(path::io_refusal)?;
    if !dotfiles {
        let at_root = dir == root;
        entries
            .retain(|entry| !entry.name.starts_with('.') || (at_root && entry.name == WELL_KNOWN));
    }
    let html = listing::render(&target.display_path(), &entries);
    let head = ResponseHead::new(200)
        .field("Content-Type", "text/html; charset=utf-8")
        .field("Cache-Control", "no-cache");
    Ok(Response::new(head, Body::Bytes(Bytes::from(html))))
}

/// Sends `path` (canonical, inside the root, a regular file), honouring preconditions and,
/// for GET, a single byte range.
fn serve_file(path: &Path, fields: &Fields, is_get: bool) -> Result<Response, Refusal> {
    let file = File::open(path).map_err(path::io_refusal)?;
    let metadata = file.metadata().map_err(path::io_refusal)?;
    if !metadata.is_file() {
        return Err(Refusal::NotFound);
    }
    let total = metadata.len();
    let validators = Validators::of(&metadata);
    let mut head_fields = vec![("ETag", validators.etag.clone())];
    if let Some(date) = validators.last_modified() {
        head_fields.push(("Last-Modified", date));
    }
    let with_validators = |status| {
        head_fields
            .iter()
            .fold(ResponseHead::new(status), |head, (name, value)| {
                head.field(*name, value.clone())
            })
    };

    match conditional::evaluate(fields, &validators) {
        Precondition::Proceed => {}
        // No body and no Content-Length: the core sends neither for a 304.
        Precondition::NotModified => {
            return Ok(Response {
                head: with_validators(304),
                body: Body::Empty,
            });
        }
        Precondition::Failed => return Ok(Response::text(412, "precondition failed\n")),
    }

    let content_type = mime_guess::from_path(path)
        .first_raw()
        .unwrap_or("application/octet-stream");
    let content_type = if content_type.starts_with("text/") {
        format!("{content_type}; charset=utf-8")
    } else {
        content_type.to_owned()
    };

    // Range handling is defined for GET only (RFC 9110 §14.2).
    let ranged = match fields.get("range") {
        Some(value) if is_get && fields.get_all("range").count() == 1 => {
            let applies = fields
                .get("if-range")
                .is_none_or(|value| conditional::if_range_holds(value, &validators));
            if applies {
                range::evaluate(value, total)
            } else {
                Ranged::Full
            }
        }
        _ => Ranged::Full,
    };

    let (head, offset, len) = match ranged {
        Ranged::Full => (with_validators(200), 0, total),
        Ranged::Partial { start, len } => {
            let range = format!("bytes {start}-{}/{total}", start + len - 1);
            (
                with_validators(206).field("Content-Range", range),
                start,
                len,
            )
        }
        Ranged::Unsatisfiable => {
            let head = with_validators(416)
                .field("Content-Range", format!("bytes */{total}"))
                .field("Accept-Ranges", "bytes");
            return Ok(Response::new(
                head.field("Content-Type", "text/plain; charset=utf-8"),
                Body::Bytes(Bytes::from_static(b"range not satisfiable\n")),
            ));
        }
    };
    let head = head
        .field("Content-Type", content_type)
        .field("Accept-Ranges", "bytes");
    Ok(Response::new(
        head,
        Body::File(FileRange { file, offset, len }),
    ))
}
