//! Who may do what: the bearer token a TCP listener requires, and the CSRF
//! token a browser's POST must carry.

use actix_web::HttpRequest;
use actix_web::http::Method;

use super::error::ApiError;

/// The cookie the page sets once `/?token=…` proved the bearer token.
pub const TOKEN_COOKIE: &str = "stevedore_token";
/// The header a browser's POST carries the page's CSRF token in.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// A new random token: 32 bytes as 64 hex digits.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Whether `a` and `b` are equal, taking as long whatever their contents
/// (only their lengths tell apart sooner), so that timing does not reveal
/// how much of a guessed token was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The bearer token the request carries: its `Authorization` header, else
/// the page's cookie.
fn presented(request: &HttpRequest) -> Option<String> {
    let header = request
        .headers()
        .get("Authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_string());
    header.or_else(|| {
        request
            .cookie(TOKEN_COOKIE)
            .map(|cookie| cookie.value().to_string())
    })
}

/// Whether the request proves `token`.
pub fn has_token(request: &HttpRequest, token: &str) -> bool {
    presented(request).is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes()))
}

/// Refuses what the request may not do: anything without the bearer token
/// when one is required, and a browser's POST (one with an `Origin` or
/// `Sec-Fetch-Site` header, which browsers add and other clients do not)
/// without the page's CSRF token.
pub fn authorize(request: &HttpRequest, token: Option<&str>, csrf: &str) -> Result<(), ApiError> {
    if let Some(token) = token
        && !has_token(request, token)
    {
        return Err(ApiError::Unauthorized);
    }
    let from_browser = request.headers().contains_key("Origin")
        || request.headers().contains_key("Sec-Fetch-Site");
    if request.method() == Method::POST && from_browser {
        let carried = request
            .headers()
            .get(CSRF_HEADER)
            .map(|value| value.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(carried, csrf.as_bytes()) {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn equal_tokens_compare_equal_and_others_do_not() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn a_listener_with_a_token_refuses_requests_without_it() {
        let request = TestRequest::get().uri("/v1/units").to_http_request();
        assert!(matches!(
            authorize(&request, Some("abc"), "csrf"),
            Err(ApiError::Unauthorized)
        ));
        let request = TestRequest::get()
            .insert_header(("Authorization", "Bearer abd"))
            .to_http_request();
        assert!(authorize(&request, Some("abc"), "csrf").is_err());
        let request = TestRequest::get()
            .insert_header(("Authorization", "Bearer abc"))
            .to_http_request();
        assert!(authorize(&request, Some("abc"), "csrf").is_ok());
    }

    #[test]
    fn a_browsers_post_needs_the_csrf_token_and_a_command_lines_does_not() {
        let cli = TestRequest::post().to_http_request();
        assert!(authorize(&cli, None, "csrf").is_ok());
        let browser = TestRequest::post()
            .insert_header(("Origin", "http://evil.example"))
            .to_http_request();
        assert!(matches!(
            authorize(&browser, None, "csrf"),
            Err(ApiError::Forbidden)
        ));
        let page = TestRequest::post()
            .insert_header(("Origin", "http://127.0.0.1:8080"))
            .insert_header((CSRF_HEADER, "csrf"))
            .to_http_request();
        assert!(authorize(&page, None, "csrf").is_ok());
    }
}
