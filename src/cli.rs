//! The command line: `serve`, `migrate`, `user …`, `client …`, `keys …`.

use crate::admin;
use crate::config::Settings;
use crate::keys::KeyStore;
use crate::startup::Application;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "irongate",
    version,
    about = "A standalone OAuth 2.0 / OpenID Connect identity provider"
)]
pub struct Cli {
    /// Configuration file (default: ./irongate.toml when present)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server; creates the database and runs migrations when needed
    Serve,
    /// Run pending database migrations and exit
    Migrate,
    /// Manage users
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth clients
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage signing keys
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints {"id", "email"}
    Create(UserCreateArgs),
    /// Disable a user: no more sign-ins, and every token and session of theirs stops working
    Disable(EmailArg),
    /// "Log out everywhere": every token and session of the user stops working
    LogoutAll(EmailArg),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    /// Email address (unique in any letter case); the user signs in with it
    #[arg(long)]
    pub email: String,
    /// Display name
    #[arg(long)]
    pub name: Option<String>,
    /// Global role (repeatable); created when it does not exist yet
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Read the password from standard input up to EOF (one trailing newline removed);
    /// without it the user can only sign in through federation
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct EmailArg {
    /// The user's email address (any letter case)
    #[arg(long)]
    pub email: String,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints {"client_id", "client_secret", …} (the secret is shown once)
    Create(ClientCreateArgs),
}

#[derive(Debug, Args)]
pub struct ClientCreateArgs {
    /// A label for the client (need not be unique)
    #[arg(long)]
    pub name: String,
    /// Redirect URI (repeatable), matched exactly
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URI (repeatable), matched exactly
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret; PKCE required)
    #[arg(long)]
    pub public: bool,
    /// Grant type (repeatable): authorization_code, refresh_token, password, client_credentials
    /// [default: authorization_code and refresh_token]
    #[arg(long = "grant-type", value_name = "TYPE")]
    pub grant_types: Vec<String>,
    /// Scope the client may ask for (repeatable) [default: openid profile email offline_access]
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// A first-party client whose users are never asked for consent
    #[arg(long)]
    pub skip_consent: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys, the active one first
    List,
    /// Make a new active signing key; older keys stay published until their tokens expire
    Rotate,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let quiet = !matches!(cli.command, Command::Serve | Command::Migrate);
    crate::telemetry::init(if quiet { "warn" } else { "info" });
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => admin::migrate(&settings).map(|applied| {
            tracing::info!(applied, "migrations up to date");
        }),
        Command::User(cmd) => print(user(cmd, &settings)?),
        Command::Client(ClientCommand::Create(args)) => print(serde_json::to_value(
            admin::create_client(&settings, &args.into())?,
        )?),
        Command::Keys(KeysCommand::List) => print(serde_json::to_value(list_keys(&settings)?)?),
        Command::Keys(KeysCommand::Rotate) => {
            let kid = KeyStore::rotate(&settings.keys.dir, settings.max_signed_token_lifetime())?;
            print(serde_json::json!({ "kid": kid }))
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        tracing::info!(port = app.port(), issuer = %app.state().settings.server.issuer, "irongate is listening");
        app.run_until_stopped().await.context("server failed")
    })
}

fn user(cmd: UserCommand, settings: &Settings) -> anyhow::Result<serde_json::Value> {
    let changed = match cmd {
        UserCommand::Create(args) => {
            let password = args.password_stdin.then(read_password).transpose()?;
            admin::create_user(
                settings,
                &args.email,
                args.name.as_deref(),
                &args.roles,
                password,
            )?
        }
        UserCommand::Disable(arg) => admin::disable_user(settings, &arg.email)?,
        UserCommand::LogoutAll(arg) => admin::logout_all(settings, &arg.email)?,
    };
    Ok(serde_json::to_value(changed)?)
}

fn list_keys(settings: &Settings) -> anyhow::Result<Vec<crate::keys::KeyInfo>> {
    if !settings.keys.dir.exists() {
        return Ok(Vec::new());
    }
    Ok(KeyStore::list(&settings.keys.dir)?)
}

/// Reads the password from standard input up to EOF, removing one trailing newline.
fn read_password() -> anyhow::Result<String> {
    let mut raw = Vec::new();
    std::io::stdin()
        .read_to_end(&mut raw)
        .context("reading the password from standard input")?;
    let mut text =
        String::from_utf8(raw).map_err(|_| anyhow::anyhow!("the password must be UTF-8 text"))?;
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
    Ok(text)
}

fn print(value: serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(&value)?);
    Ok(())
}

impl From<ClientCreateArgs> for admin::ClientInput {
    fn from(a: ClientCreateArgs) -> Self {
        Self {
            name: a.name,
            redirect_uris: a.redirect_uris,
            post_logout_redirect_uris: a.post_logout_redirect_uris,
            public: a.public,
            grant_types: a.grant_types,
            scopes: a.scopes,
            skip_consent: a.skip_consent,
        }
    }
}
