//! The API's errors: each a status code and a JSON body `{error, message}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::unit::UnitError;

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No unit of that name in the namespace (404 `unknown_unit`).
    #[error("no unit named {0}")]
    UnknownUnit(String),
    /// No such route (404 `not_found`).
    #[error("no such endpoint: {0}")]
    NotFound(String),
    /// The route exists, not with this method (405 `method_not_allowed`).
    #[error("{method} is not allowed here; use {allowed}")]
    MethodNotAllowed {
        /// The request's method.
        method: String,
        /// The methods the route takes.
        allowed: &'static str,
    },
    /// A malformed request: a bad query, header or body (400 `bad_request`).
    #[error("{0}")]
    BadRequest(String),
    /// The unit's spec or the manifest is invalid; nothing changed (400
    /// `invalid`), with every problem.
    #[error("{message}")]
    Invalid {
        /// One line.
        message: String,
        /// Every problem, one line each.
        problems: Vec<String>,
    },
    /// The request conflicts with the namespace's state (409 `conflict`).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the limit (413 `payload_too_large`).
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// No valid bearer token (401 `unauthorized`).
    #[error("this listener needs the bearer token (Authorization: Bearer …)")]
    Unauthorized,
    /// A browser's request without the page's CSRF token (403 `forbidden`).
    #[error("a request from a browser needs the status page's X-CSRF-Token header")]
    Forbidden,
    /// This server does not offer it: `reload` without a manifest (501
    /// `not_implemented`).
    #[error("{0}")]
    NotImplemented(String),
    /// The engine or the supervisor does not answer now (503 `unavailable`).
    #[error("{0}")]
    Unavailable(String),
    /// The engine refused the operation (502 `engine_error`).
    #[error("{0}")]
    Engine(String),
}

impl ApiError {
    /// The `error` word of the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::UnknownUnit(_) => "unknown_unit",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Invalid { .. } => "invalid",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotImplemented(_) => "not_implemented",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Engine(_) => "engine_error",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::UnknownUnit(_) | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest(_) | ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Engine(_) => StatusCode::BAD_GATEWAY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let ApiError::Invalid { problems, .. } = self {
            body["problems"] = json!(problems);
        }
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::MethodNotAllowed { allowed, .. } = self {
            response.insert_header(("Allow", *allowed));
        }
        if matches!(self, ApiError::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(body)
    }
}

impl From<UnitError> for ApiError {
    fn from(error: UnitError) -> Self {
        match &error {
            UnitError::NotFound(name) => ApiError::UnknownUnit(name.clone()),
            UnitError::Invalid { problems, .. } => ApiError::Invalid {
                message: error.to_string(),
                problems: problems.iter().map(ToString::to_string).collect(),
            },
            UnitError::AlreadyExists(_) | UnitError::NameTaken(_) => {
                ApiError::Conflict(error.to_string())
            }
            _ if error.is_engine_unavailable() => ApiError::Unavailable(error.to_string()),
            UnitError::Engine(_) => ApiError::Engine(error.to_string()),
            _ => ApiError::Unavailable(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineError;

    #[test]
    fn an_unknown_unit_is_a_404_naming_it() {
        let error = ApiError::from(UnitError::NotFound("web".into()));
        assert_eq!(error.status_code(), StatusCode::NOT_FOUND);
        assert_eq!(error.code(), "unknown_unit");
        assert_eq!(error.to_string(), "no unit named web");
    }

    #[test]
    fn an_engine_that_does_not_answer_is_a_503_not_a_unit_failure() {
        let error = ApiError::from(UnitError::Engine(EngineError::Unavailable(
            "connection refused".into(),
        )));
        assert_eq!(error.status_code(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn a_refused_method_names_the_allowed_ones() {
        let error = ApiError::MethodNotAllowed {
            method: "GET".into(),
            allowed: "POST",
        };
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers().get("Allow").unwrap(), "POST");
    }
}
