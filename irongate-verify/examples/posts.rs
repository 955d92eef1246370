//! A resource server trusting irongate's tokens: in-memory posts.
//!
//! ```sh
//! cargo run -p irongate-verify --example posts -- --issuer URL --audience AUD --bind ADDR \
//!     [--client-id ID --client-secret SECRET]
//! ```
//!
//! With a confidential client (registered for token exchange) it also accepts API keys and
//! follows the revocation feed every 5 s, failing closed after 60 s without a good poll.
//!
//! - `GET /users/me` (any valid token): the caller as JSON.
//! - `GET /admin/users` (role `admin`): 200.
//! - `POST /posts` `{"title", "body"}` (permission `posts:write`): 201 `{"id", "author_id"}`.
//! - `PUT /posts/{id}` `{"title", "body"}` (permission `posts:write`, and the author or role
//!   `admin`): 200; someone else's post 403; unknown 404.
//! - `GET /orgs/current` (a token with an organization): `{"org_id", "org_roles"}`.

use actix_web::{App, HttpResponse, HttpServer, web};
use irongate_verify::{Caller, Rejection, Verifier};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The posts, in memory.
#[derive(Default)]
pub struct Posts {
    next: Mutex<(u64, HashMap<u64, Post>)>,
}

#[derive(Clone, Serialize)]
pub struct Post {
    pub id: u64,
    pub author_id: String,
    pub title: String,
    pub body: String,
}

#[derive(Deserialize)]
pub struct PostBody {
    pub title: String,
    pub body: String,
}

/// Every route of the example.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/me", web::get().to(me))
        .route("/admin/users", web::get().to(admin_users))
        .route("/posts", web::post().to(create_post))
        .route("/posts/{id}", web::put().to(update_post))
        .route("/orgs/current", web::get().to(current_org));
}

async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(caller)
}

async fn admin_users(caller: Caller) -> Result<HttpResponse, Rejection> {
    caller.require_role("admin")?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "users": [] })))
}

async fn create_post(
    caller: Caller,
    posts: web::Data<Posts>,
    body: web::Json<PostBody>,
) -> Result<HttpResponse, Rejection> {
    caller.require_permission("posts:write")?;
    let mut guard = posts.next.lock().unwrap_or_else(|e| e.into_inner());
    guard.0 += 1;
    let post = Post {
        id: guard.0,
        author_id: caller.sub.clone(),
        title: body.title.clone(),
        body: body.body.clone(),
    };
    guard.1.insert(post.id, post.clone());
    Ok(HttpResponse::Created()
        .json(serde_json::json!({ "id": post.id, "author_id": post.author_id })))
}

async fn update_post(
    caller: Caller,
    posts: web::Data<Posts>,
    id: web::Path<u64>,
    body: web::Json<PostBody>,
) -> Result<HttpResponse, Rejection> {
    caller.require_permission("posts:write")?;
    let mut guard = posts.next.lock().unwrap_or_else(|e| e.into_inner());
    let Some(post) = guard.1.get_mut(&id) else {
        return Ok(HttpResponse::NotFound().json(serde_json::json!({ "error": "not_found" })));
    };
    caller.require_owner_or(&post.author_id, &["admin"])?;
    post.title = body.title.clone();
    post.body = body.body.clone();
    Ok(HttpResponse::Ok().json(post.clone()))
}

async fn current_org(caller: Caller) -> Result<HttpResponse, Rejection> {
    let org = caller.require_org()?;
    Ok(
        HttpResponse::Ok()
            .json(serde_json::json!({ "org_id": org, "org_roles": caller.org_roles })),
    )
}

/// The command line.
#[derive(clap::Parser)]
struct Args {
    #[arg(long)]
    issuer: String,
    #[arg(long)]
    audience: String,
    #[arg(long, default_value = "127.0.0.1:8000")]
    bind: String,
    #[arg(long, requires = "client_secret")]
    client_id: Option<String>,
    #[arg(long, requires = "client_id")]
    client_secret: Option<String>,
}

/// The verifier the command line asks for.
pub async fn verifier(
    issuer: &str,
    audience: &str,
    client: Option<(String, String)>,
) -> Result<Verifier, irongate_verify::BuildError> {
    let mut builder = Verifier::builder(issuer, audience);
    if let Some((id, secret)) = client {
        builder = builder
            .client(id, secret)
            .api_keys()
            .revocation_feed(Duration::from_secs(5), Duration::from_secs(60));
    }
    builder.build().await
}

#[allow(dead_code)]
#[actix_web::main]
async fn main() -> std::io::Result<()> {
    use clap::Parser;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let client = args.client_id.zip(args.client_secret);
    let verifier = verifier(&args.issuer, &args.audience, client)
        .await
        .map_err(std::io::Error::other)?;
    let verifier = web::Data::new(verifier);
    let posts = web::Data::new(Posts::default());
    println!("posts listening on http://{}", args.bind);
    HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .app_data(posts.clone())
            .configure(configure)
    })
    .bind(&args.bind)?
    .run()
    .await
}
