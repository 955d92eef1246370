use crate::oauth::discovery::paths;
use crate::oauth::error::OAuthError;
use crate::oauth::form::Form;
use crate::oauth::token;
use crate::startup::AppState;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use futures_util::StreamExt;

/// The largest token request body accepted; real ones are a few hundred bytes.
const MAX_BODY: usize = 16 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(paths::TOKEN)
            .route(web::post().to(post_token))
            .default_service(web::to(|| async {
                HttpResponse::MethodNotAllowed()
                    .insert_header((header::ALLOW, "POST"))
                    .finish()
            })),
    );
}

async fn post_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let form = read_form(&req, payload).await?;
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        token::token(&state, authorization, &form).await
    }
    .await;
    match result {
        Ok(body) => no_store(HttpResponse::Ok()).json(body),
        Err(e) => oauth_error(&e),
    }
}

/// RFC 6749 §3.2: `application/x-www-form-urlencoded` only, bounded in size.
async fn read_form(req: &HttpRequest, mut payload: web::Payload) -> Result<Form, OAuthError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let too_large = || {
        OAuthError::invalid_request(format!("the body exceeds {MAX_BODY} bytes")).with_status(413)
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| OAuthError::invalid_request("the body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Form::parse(&body)
}

fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
    builder
}

/// RFC 6749 §5.2 JSON error, with `WWW-Authenticate: Basic` when Basic auth failed.
pub fn oauth_error(e: &OAuthError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(e.status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let mut builder = no_store(HttpResponse::build(status));
    if e.basic_challenge {
        builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"irongate\""));
    }
    if let Some(secs) = e.retry_after {
        builder.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    builder
        .json(serde_json::json!({ "error": e.code.as_str(), "error_description": e.description }))
}
