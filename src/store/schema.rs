// Portable column types only (TEXT ids, Timestamp in UTC, Bool, BigInt): the same schema
// serves SQLite and PostgreSQL through `DbConnection`. Times: `Timestamp` in the first tables
// (users, clients, roles); `BigInt` unix seconds (UTC) in every table since and every table to
// come (`store::unix_now()`), compared as integers on both backends.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        email_normalized -> Text,
        name -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        is_active -> Bool,
        email_verified -> Bool,
        security_stamp -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        is_public -> Bool,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        grant_types -> Text,
        allowed_scopes -> Text,
        skip_consent -> Bool,
        created_at -> Timestamp,
        require_organization -> Bool,
    }
}

diesel::table! {
    roles (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (user_id, role_id) {
        user_id -> Text,
        role_id -> Text,
    }
}

diesel::table! {
    role_permissions (role_id, permission) {
        role_id -> Text,
        permission -> Text,
    }
}

diesel::table! {
    role_parents (role_id, parent_id) {
        role_id -> Text,
        parent_id -> Text,
    }
}

diesel::table! {
    role_graph_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    memberships (org_id, user_id) {
        org_id -> Text,
        user_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    membership_roles (org_id, user_id, role_id) {
        org_id -> Text,
        user_id -> Text,
        role_id -> Text,
    }
}

diesel::joinable!(role_permissions -> roles (role_id));
diesel::joinable!(memberships -> organizations (org_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(membership_roles -> roles (role_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(user_roles -> roles (role_id));

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        family_id -> Text,
        client_id -> Text,
        user_id -> Text,
        scope -> Text,
        stamp_digest -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        access_jti -> Text,
        access_exp -> BigInt,
        session_id -> Nullable<Text>,
        org_id -> Nullable<Text>,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        redirect_uri -> Text,
        redirect_uri_explicit -> Bool,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        nonce -> Nullable<Text>,
        auth_time -> BigInt,
        session_id -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        family_id -> Nullable<Text>,
        access_jti -> Nullable<Text>,
        access_exp -> Nullable<BigInt>,
        org_id -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        sid -> Text,
        user_id -> Nullable<Text>,
        stamp_digest -> Nullable<Text>,
        auth_time -> Nullable<BigInt>,
        csrf_secret -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    consents (user_id, client_id) {
        user_id -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        user_id -> Text,
        org_id -> Nullable<Text>,
        name -> Text,
        key_hash -> Text,
        display -> Text,
        scopes -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        previous_hash -> Nullable<Text>,
        previous_until -> Nullable<BigInt>,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::table! {
    federated_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    deleted_users (user_id) {
        user_id -> Text,
        deleted_at -> BigInt,
    }
}

diesel::joinable!(federated_identities -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    deleted_users,
    authorization_codes,
    federated_identities,
    sessions,
    consents,
    users,
    clients,
    roles,
    user_roles,
    role_permissions,
    role_parents,
    role_graph_version,
    organizations,
    memberships,
    membership_roles,
    refresh_tokens,
    revoked_tokens
);
