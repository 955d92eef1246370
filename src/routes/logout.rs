//! RP-Initiated Logout 1.0 (`end_session_endpoint`, GET and POST). With a valid `id_token_hint`
//! the session ends at once; without one a confirmation page asks first (ASVS5 10.6.2, SEC-47).
//! `post_logout_redirect_uri` is followed only when registered, exactly, for the client the hint
//! or `client_id` names; otherwise irongate's own logged-out page shows (never an open redirect).

use super::common::read_form_body;
use super::flow::{OnPage, page_resource};
use crate::browser::pages::{self, LoggedOutPage, LogoutPage};
use crate::browser::session::Current;
use crate::error::{AppError, PageError};
use crate::oauth::authorize::{Params, append_params};
use crate::oauth::discovery::paths;
use crate::state::AppState;
use crate::store::{Client, StoreError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

type PageResult = Result<HttpResponse, PageError>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page_resource(
        web::resource(paths::END_SESSION)
            .route(web::get().to(get_end_session))
            .route(web::post().to(post_end_session)),
        "GET, POST",
    ));
}

async fn get_end_session(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let params = Params::parse(req.query_string().as_bytes());
    Ok(end_session(&state, &req, params).await?)
}

/// A POST is either the relying party's request (form-encoded, RP-Initiated Logout §2) or the
/// confirmation form, which carries a CSRF token.
async fn post_end_session(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let body = read_form_body(&req, payload).await.on_page()?;
    let params = Params::parse(&body);
    if params.single("csrf_token").ok().flatten().is_some() {
        return Ok(confirm(&state, &req, &body).await?);
    }
    // The relying party's POST is usually cross-site and carries no `SameSite=Lax` session
    // cookie: continue as a top-level GET, which does.
    let next = format!(
        "{}?{}",
        state.settings.endpoint(paths::END_SESSION),
        params.encode()
    );
    Ok(pages::redirect(true, &next, vec![]))
}

/// What the relying party asked for, once checked.
struct Logout {
    client: Option<Client>,
    /// Registered for `client`, exactly; None otherwise.
    redirect_uri: Option<String>,
    state: Option<String>,
}

impl Logout {
    async fn from_params(
        state: &AppState,
        params: &Params,
        hint_aud: Option<&str>,
    ) -> Result<Self, PageError> {
        let single = |key: &str| {
            params
                .single(key)
                .map_err(|r| PageError::bad_request(format!("The parameter {} is repeated.", r.0)))
        };
        let client_id = single("client_id")?;
        if let (Some(given), Some(aud)) = (client_id, hint_aud)
            && given != aud
        {
            return Err(PageError::bad_request(
                "client_id does not match the id_token_hint.",
            ));
        }
        let client = match hint_aud.or(client_id) {
            Some(id) if id.len() <= 256 => state.clients.find(id).await?,
            _ => None,
        };
        let redirect_uri = match (single("post_logout_redirect_uri")?, &client) {
            (Some(uri), Some(c)) if c.post_logout_redirect_uris.iter().any(|r| r == uri) => {
                Some(uri.to_owned())
            }
            (Some(uri), _) => {
                let uri = crate::telemetry::clip(uri);
                tracing::warn!(%uri, "logout with an unregistered post_logout_redirect_uri");
                None
            }
            (None, _) => None,
        };
        Ok(Self {
            client,
            redirect_uri,
            state: single("state")?
                .filter(|s| s.len() <= 4096)
                .map(str::to_owned),
        })
    }

    /// The parameters the confirmation form carries back.
    fn encode(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(c) = &self.client {
            pairs.push(("client_id", c.id.as_str()));
        }
        if let Some(uri) = &self.redirect_uri {
            pairs.push(("post_logout_redirect_uri", uri.as_str()));
        }
        if let Some(s) = &self.state {
            pairs.push(("state", s.as_str()));
        }
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    /// After the session ended: back to the relying party, or the logged-out page. The session
    /// cookie is cleared either way when the request presented it.
    fn done(&self, state: &AppState, req: &HttpRequest) -> HttpResponse {
        let clear = state.sessions.removal_if_presented(req);
        match &self.redirect_uri {
            Some(uri) => {
                let params = self.state.as_deref().map(|s| ("state", s));
                pages::redirect(true, &append_params(uri, params), clear)
            }
            None => pages::page(StatusCode::OK, &LoggedOutPage, clear),
        }
    }
}

async fn end_session(state: &AppState, req: &HttpRequest, params: Params) -> PageResult {
    let hint = match params.single("id_token_hint") {
        // SEC-47: a forged, tampered or foreign hint never leads anywhere.
        Ok(Some(token)) => Some(
            state
                .interaction
                .verify_hint(token)
                .ok_or_else(|| PageError::bad_request("The id_token_hint is not valid."))?,
        ),
        Ok(None) => None,
        Err(r) => {
            return Err(PageError::bad_request(format!(
                "The parameter {} is repeated.",
                r.0
            )));
        }
    };
    let logout = Logout::from_params(state, &params, hint.as_ref().map(|h| h.aud.as_str())).await?;
    let current = state.sessions.current(req).await?;
    let signed_in = current.filter(|c| c.user.is_some());
    match (hint, signed_in) {
        // Nobody is signed in here: nothing to end, nothing to confirm.
        (_, None) => Ok(logout.done(state, req)),
        // The hint names the signed-in user: end at once, unless it comes from another
        // session of theirs that is still alive (a token of their other browser; RP-Initiated
        // Logout §2: the OP must then ask). A hint from an ended session (timed out, replaced
        // by a new sign-in) or without `sid` (password grant) ends this one.
        (Some(hint), Some(current))
            if current.session.user_id.as_deref() == Some(hint.sub.as_str()) =>
        {
            if other_live_session(state, &current, hint.sid).await? {
                Ok(confirmation_page(&current, &logout))
            } else {
                finish(state, req, &current, &logout).await
            }
        }
        // No hint, or a hint for someone else: ask first.
        (_, Some(current)) => Ok(confirmation_page(&current, &logout)),
    }
}

/// Whether `sid` names a live session other than `current`.
async fn other_live_session(
    state: &AppState,
    current: &Current,
    sid: Option<String>,
) -> Result<bool, StoreError> {
    match sid {
        Some(sid) if sid != current.session.sid => state.sessions.live_by_sid(sid).await,
        _ => Ok(false),
    }
}

fn confirmation_page(current: &Current, logout: &Logout) -> HttpResponse {
    let request = logout.encode();
    let csrf = current.csrf_token("logout", &request);
    pages::page(
        StatusCode::OK,
        &LogoutPage {
            client_name: logout.client.as_ref().map(|c| c.name.as_str()),
            action: paths::END_SESSION.trim_start_matches('/'),
            csrf_token: &csrf,
            request: &request,
        },
        vec![],
    )
}

/// The confirmation form came back.
async fn confirm(state: &AppState, req: &HttpRequest, body: &[u8]) -> PageResult {
    if state.sessions.from_another_site(req) {
        return Err(PageError::forbidden());
    }
    let form = crate::oauth::form::Form::parse(body)?;
    let raw = form.get("request").unwrap_or("");
    let current = state.sessions.current(req).await?;
    let Some(current) = current.filter(|c| c.user.is_some()) else {
        // The session is already gone (expired, or ended elsewhere): nothing left to do.
        let clear = state.sessions.removal_if_presented(req);
        return Ok(pages::page(StatusCode::OK, &LoggedOutPage, clear));
    };
    if !current.csrf_ok(form.get("csrf_token"), "logout", raw) {
        return Err(PageError::forbidden());
    }
    let logout = Logout::from_params(state, &Params::parse(raw.as_bytes()), None).await?;
    finish(state, req, &current, &logout).await
}

async fn finish(
    state: &AppState,
    req: &HttpRequest,
    current: &Current,
    logout: &Logout,
) -> PageResult {
    state.sessions.end(current).await?;
    tracing::info!(user = ?current.session.user_id, "signed out");
    Ok(logout.done(state, req))
}
