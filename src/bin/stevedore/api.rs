//! Serving the control API (`stevedore::http`) on the namespace's socket,
//! and on TCP when asked (then only with the bearer token).

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use stevedore::http::{Api, new_token};

use crate::Failure;

/// Where the API is served.
pub enum Listener {
    /// The namespace's socket: whoever may open it may use the API.
    Unix(UnixListener),
    /// A TCP address: every request needs the token.
    Tcp(TcpListener),
}

/// Serves `api` on `listener` until the handle stops it. Signals stay
/// `up`'s own: the server never acts on them.
pub fn serve(api: Api, listener: Listener) -> std::io::Result<ServerHandle> {
    let routes = api.configure();
    let server = HttpServer::new(move || App::new().configure(routes.clone()))
        .workers(2)
        .disable_signals()
        .shutdown_timeout(2);
    let server = match listener {
        Listener::Unix(listener) => server.listen_uds(listener)?,
        Listener::Tcp(listener) => server.listen(listener)?,
    }
    .run();
    let handle = server.handle();
    actix::spawn(async move {
        if let Err(error) = server.await {
            tracing::error!(%error, "the control API stopped");
        }
    });
    Ok(handle)
}

/// The TCP listener's token: read from `token_file`, or made and written
/// (0600) to `beside_socket`. An empty or unreadable file is refused: the
/// listener never starts without a token.
pub fn token(token_file: Option<&Path>, beside_socket: &Path) -> Result<String, Failure> {
    if let Some(file) = token_file {
        let text = std::fs::read_to_string(file).map_err(|error| {
            Failure::input(format!(
                "cannot read the token file {}: {error}",
                file.display()
            ))
        })?;
        let token = text.trim().to_string();
        if token.is_empty() {
            return Err(Failure::input(format!(
                "the token file {} is empty; --listen needs a token",
                file.display()
            )));
        }
        return Ok(token);
    }
    let token = new_token();
    let _ = std::fs::remove_file(beside_socket);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(beside_socket)
        .and_then(|mut file| {
            file.write_all(format!("{token}\n").as_bytes())
                .map(|()| file)
        })
        .map_err(|error| {
            Failure::runtime(format!("cannot write {}: {error}", beside_socket.display()))
        })?;
    let _ = file.flush();
    Ok(token)
}
