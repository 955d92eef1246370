//! The token endpoint (RFC 6749 §3.2).

use super::common::{authorization, client_ip, read_form};
use super::{Only, only};
use crate::config::Settings;
use crate::error::{AppError, no_store};
use crate::oauth::discovery::paths;
use crate::oauth::grants::TokenRequest;
use crate::state::AppState;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(only(paths::TOKEN, Only::Post, post_token).wrap(super::cors(settings)));
}

async fn post_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let form = read_form(&req, payload).await?;
    let request = TokenRequest {
        authorization: authorization(&req),
        client_ip: client_ip(&req, &state),
        form: &form,
    };
    let body = state.tokens.token(&request).await?;
    Ok(no_store(HttpResponse::Ok())
        .content_type(ContentType::json())
        .body(body.to_json()))
}
