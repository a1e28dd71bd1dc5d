//! The HTTP `CONNECT` handshake that opens a tunnel through a proxy.
//!
//! Written here rather than taken from hyper-util's `Tunnel` because that one's error type is
//! not nameable outside hyper-util: this one reports a typed [`ProxyFailure`] with the proxy's
//! status code. The proxy's answer is read up to [`MAX_RESPONSE_HEAD`] bytes.

use alloc::vec::Vec;

use http::HeaderValue;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::error::{ProxyFailure, TransportError};

/// The largest proxy answer (status line and headers) read before giving up.
pub(crate) const MAX_RESPONSE_HEAD: usize = 8 * 1024;

/// Asks the proxy on `stream` to open a tunnel to `host:port` (`host` as in a URL: IPv6 in
/// brackets). Returns the stream, now connected to the destination.
pub(crate) async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    port: u16,
    auth: Option<&HeaderValue>,
) -> Result<S, TransportError> {
    let mut request =
        alloc::format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n").into_bytes();
    if let Some(auth) = auth {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let broken = |e: std::io::Error| TransportError::proxy(ProxyFailure::Refused).with_source(e);
    stream.write_all(&request).await.map_err(broken)?;
    stream.flush().await.map_err(broken)?;

    let mut head = Vec::with_capacity(512);
    let mut chunk = [0_u8; 512];
    loop {
        let n = stream.read(&mut chunk).await.map_err(broken)?;
        if n == 0 {
            return Err(broken(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "proxy closed the connection before answering CONNECT",
            )));
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = find_head_end(&head) {
            if end != head.len() {
                // The destination cannot have spoken yet: bytes past the head are not ours.
                return Err(TransportError::proxy(ProxyFailure::BadResponse));
            }
            break;
        }
        if head.len() > MAX_RESPONSE_HEAD {
            return Err(TransportError::proxy(ProxyFailure::BadResponse));
        }
    }
    match status_code(&head) {
        Some(200..=299) => Ok(stream),
        Some(407) => Err(TransportError::proxy(ProxyFailure::AuthRequired).with_status(407)),
        Some(code) => Err(TransportError::proxy(ProxyFailure::Refused).with_status(code)),
        None => Err(TransportError::proxy(ProxyFailure::BadResponse)),
    }
}

/// The index just past the blank line ending the response head.
fn find_head_end(head: &[u8]) -> Option<usize> {
    head.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// The status code of `HTTP/1.x NNN ...`.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\r').next()?;
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let code = rest.get(2..5)?;
    if rest.get(1) != Some(&b' ') || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(code).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_parse() {
        assert_eq!(
            status_code(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some(200)
        );
        assert_eq!(status_code(b"HTTP/1.0 407 Proxy Auth\r\n\r\n"), Some(407));
        assert_eq!(status_code(b"HTTP/1.1 403\r\n\r\n"), Some(403));
        assert_eq!(status_code(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
        assert_eq!(status_code(b"HTTP/1.1 2x0 OK\r\n\r\n"), None);
        assert_eq!(find_head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n"), Some(25));
        assert_eq!(find_head_end(b"HTTP/1.1 200 OK\r\n"), None);
    }

    async fn answer(reply: &'static [u8]) -> Result<(), TransportError> {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let mut buf = [0_u8; 1024];
            let _ = server.read(&mut buf).await;
            let _ = server.write_all(reply).await;
            // Keep the stream open until the client is done with it.
            let _ = server.read(&mut buf).await;
        });
        connect(client, "example.com", 443, None).await.map(drop)
    }

    #[tokio::test]
    async fn answers_become_typed_failures() {
        assert!(answer(b"HTTP/1.1 200 OK\r\n\r\n").await.is_ok());
        let err = answer(b"HTTP/1.1 407 Auth\r\n\r\n").await.expect_err("407");
        assert_eq!(err.proxy_failure(), Some(ProxyFailure::AuthRequired));
        let err = answer(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            .await
            .expect_err("403");
        assert_eq!(err.proxy_failure(), Some(ProxyFailure::Refused));
        assert_eq!(err.status(), Some(403));
        let err = answer(b"garbage\r\n\r\n").await.expect_err("not http");
        assert_eq!(err.proxy_failure(), Some(ProxyFailure::BadResponse));
        let err = answer(b"HTTP/1.1 200 OK\r\n\r\nextra")
            .await
            .expect_err("extra bytes");
        assert_eq!(err.proxy_failure(), Some(ProxyFailure::BadResponse));
    }

    #[tokio::test]
    async fn an_endless_head_is_cut_off() {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let mut buf = [0_u8; 1024];
            let _ = server.read(&mut buf).await;
            let line = [b'x'; 1024];
            // Bounded: at most 64 KiB, far past the 8 KiB cap.
            for _ in 0..64 {
                if server.write_all(&line).await.is_err() {
                    break;
                }
            }
        });
        let err = connect(client, "example.com", 443, None)
            .await
            .map(drop)
            .expect_err("too long");
        assert_eq!(err.proxy_failure(), Some(ProxyFailure::BadResponse));
    }
}
