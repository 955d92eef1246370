//! The command line: `serve`, `migrate`, `user …`, `client …`, `keys …`, `role …`, `org …`,
//! `api-key …`.

mod api_keys;
mod roles;

use crate::admin::{self, Admin, AdminError};
use crate::auth::end_all::EndAll;
use crate::config::{DatabaseKind, Settings};
use crate::domain::Email;
use crate::ephemeral::Ephemeral;
use crate::keys::KeyStore;
use crate::startup::Application;
use crate::store::Store;
use anyhow::Context;
use api_keys::ApiKeyCommand;
use clap::{Args, Parser, Subcommand};
use roles::{OrgCommand, RoleCommand, UserRoleArgs};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// Manage roles: their permissions and the roles they inherit from
    #[command(subcommand)]
    Role(RoleCommand),
    /// Manage organizations and their members
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users' API keys
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints {"id", "email"}
    Create(UserCreateArgs),
    /// Disable a user: no more sign-ins, and every token and session of theirs stops working
    Disable(EmailArg),
    /// "Log out everywhere": every token and session of the user stops working
    LogoutAll(EmailArg),
    /// Set a new password (read from standard input); every token and session of the user stops
    /// working
    SetPassword(SetPasswordArgs),
    /// Give the user a role, globally or inside an organization; prints {"id", "email"}
    AddRole(UserRoleArgs),
    /// Take a role away from the user; prints {"id", "email"}
    RemoveRole(UserRoleArgs),
    /// Unlink the user's identity at a federated provider (their sessions and tokens end);
    /// prints {"id", "email"}
    Unlink(UnlinkArgs),
}

#[derive(Debug, Args)]
pub struct UnlinkArgs {
    /// The user's email address (any letter case)
    #[arg(long)]
    pub email: String,
    /// The provider's issuer, as its ID tokens name it (e.g. https://accounts.google.com)
    #[arg(long)]
    pub issuer: String,
}

#[derive(Debug, Args)]
pub struct SetPasswordArgs {
    /// The user's email address (any letter case)
    #[arg(long)]
    pub email: String,
    /// Read the new password from standard input up to EOF (one trailing newline removed)
    #[arg(long, required = true)]
    pub password_stdin: bool,
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
    /// The email is known to belong to the user (federation may then link an identity from a
    /// provider authoritative for it); unverified by default
    #[arg(long)]
    pub email_verified: bool,
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
    /// Users of this client always act inside an organization (chosen when they have several)
    #[arg(long)]
    pub require_organization: bool,
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
    let settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(
        if quiet { "warn" } else { "info" },
        settings.server.log_json,
    );
    match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let applied = connect(&settings)?.1;
            tracing::info!(applied, "migrations up to date");
            Ok(())
        }
        Command::User(cmd) => print(user(cmd, settings)?),
        Command::Client(ClientCommand::Create(args)) => {
            let input = admin::ClientInput::from(args);
            // Every input is checked before the database is opened (or created).
            input.validate(&settings.tokens.scopes)?;
            let created = block_on(settings, |admin| async move {
                admin.create_client(&input).await
            })?;
            print(serde_json::to_value(created)?)
        }
        Command::Role(cmd) => print(roles::role(cmd, settings)?),
        Command::Org(cmd) => print(roles::org(cmd, settings)?),
        Command::ApiKey(cmd) => print(api_keys::api_key(cmd, settings)?),
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

/// Opens the database with one connection and runs pending migrations (how many ran).
fn connect(settings: &Settings) -> anyhow::Result<(Store, usize)> {
    let store = Store::connect_single(settings)
        .map_err(|e| anyhow::anyhow!("configuration key `database_url`: {e}"))?;
    let applied = store
        .run_migrations()
        .context("running database migrations")?;
    Ok((store, applied))
}

/// Runs one admin operation on a runtime of its own, over the command's own connection.
fn block_on<T, F, Fut>(settings: Settings, operation: F) -> anyhow::Result<T>
where
    F: FnOnce(Admin) -> Fut,
    Fut: std::future::Future<Output = Result<T, AdminError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let store = connect(&settings)?.0;
        let ephemeral = Ephemeral::new(
            settings.redis.url.as_deref(),
            &settings.redis.prefix,
            settings.login.limit_table_size,
        )
        .map_err(|e| anyhow::anyhow!("configuration key `redis_url`: {e}"))?;
        let end_all = EndAll::new(store.clone(), ephemeral);
        let admin = Admin::new(Arc::new(settings), store, end_all, Arc::default());
        Ok(operation(admin).await?)
    })
}

fn user(cmd: UserCommand, settings: Settings) -> anyhow::Result<serde_json::Value> {
    let changed = match cmd {
        UserCommand::Create(args) => {
            let password = args.password_stdin.then(read_password).transpose()?;
            let input = admin::NewUserInput {
                email: args.email,
                name: args.name,
                roles: args.roles,
                password,
                email_verified: args.email_verified,
            }
            .validate()?;
            block_on(
                settings,
                |admin| async move { admin.create_user(input).await },
            )?
        }
        UserCommand::Disable(arg) => {
            let email = existing_database(&settings, &arg.email)?;
            warn_unshared(block_on(settings, |admin| async move {
                admin.disable_user(&email).await
            })?)
        }
        UserCommand::LogoutAll(arg) => {
            let email = existing_database(&settings, &arg.email)?;
            warn_unshared(block_on(settings, |admin| async move {
                admin.logout_all(&email).await
            })?)
        }
        UserCommand::AddRole(args) => block_on(settings, |admin| async move {
            admin
                .change_user_role(&args.email, &args.role, args.org.as_deref(), true)
                .await
        })?,
        UserCommand::RemoveRole(args) => block_on(settings, |admin| async move {
            admin
                .change_user_role(&args.email, &args.role, args.org.as_deref(), false)
                .await
        })?,
        UserCommand::Unlink(args) => {
            let email = existing_database(&settings, &args.email)?;
            warn_unshared(block_on(settings, |admin| async move {
                admin.unlink_identity(&email, &args.issuer).await
            })?)
        }
        UserCommand::SetPassword(args) => {
            let password = read_password()?;
            // The password rules that need no database first, so a bad one opens nothing.
            crate::domain::Password::parse_new(password.clone(), &[args.email.as_str()])?;
            let email = existing_database(&settings, &args.email)?;
            warn_unshared(block_on(settings, |admin| async move {
                admin.set_password(&email, password).await
            })?)
        }
    };
    Ok(serde_json::to_value(changed)?)
}

/// A command about an existing user needs an existing database: on SQLite a missing file means
/// no user, and is not created.
fn existing_database(settings: &Settings, email: &str) -> anyhow::Result<String> {
    let parsed = Email::parse(email)?;
    if settings.database.kind == DatabaseKind::Sqlite
        && !std::path::Path::new(settings.database.url.trim_start_matches("sqlite://")).exists()
    {
        return Err(admin::users_no_user(&parsed).into());
    }
    Ok(email.to_owned())
}

/// The change is saved; says so when Redis could not be told.
fn warn_unshared(changed: admin::Changed) -> admin::UserRef {
    if let Some(e) = changed.unshared {
        eprintln!(
            "irongate: warning: the change is saved, but Redis could not be told ({e}); \
             servers may accept the user's old tokens for up to a minute"
        );
    }
    changed.user
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
            require_organization: a.require_organization,
        }
    }
}
