use super::common::{authorization, client_ip, no_store, oauth_error, post_only, read_form};
use crate::config::Settings;
use crate::oauth::discovery::paths;
use crate::oauth::token::{self, TokenRequest};
use crate::startup::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(post_only(paths::TOKEN, post_token).wrap(super::cors(settings)));
}

async fn post_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let form = read_form(&req, payload).await?;
        let request = TokenRequest {
            authorization: authorization(&req),
            client_ip: client_ip(&req, &state),
            form: &form,
        };
        token::token(&state, &request).await
    }
    .await;
    match result {
        Ok(body) => no_store(HttpResponse::Ok()).json(body),
        Err(e) => oauth_error(&e),
    }
}
