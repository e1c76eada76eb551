//! Web sign-in: an optional password per user (`users.password_hash`, an argon2id PHC
//! string; NULL means the user cannot sign in with a password) and the server-side
//! sessions of signed-in browsers (`web_sessions`).
//!
//! A session row is found by the SHA-256 of the session id the browser holds in its
//! cookie; the id itself is never stored, so a database leak does not leak usable
//! sessions. `method` says how the session was made: `password`, or `token` with the id
//! of the API token pasted at sign-in (the session then carries that token's scopes and
//! ends with it). `csrf` is the per-session secret every form of the signed-in user
//! carries. Times are milliseconds since the epoch: `expires_at` is the absolute end,
//! `last_seen_at` limits idleness.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    PasswordHash,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WebSessions {
    Table,
    Id,
    IdHash,
    UserId,
    Method,
    TokenId,
    Csrf,
    CreatedAt,
    ExpiresAt,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len_null(Users::PasswordHash, 255))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebSessions::Table)
                .col(big_pk_auto(WebSessions::Id))
                .col(string_len_uniq(WebSessions::IdHash, 64))
                .col(big_integer(WebSessions::UserId))
                .col(string_len(WebSessions::Method, 16))
                .col(big_integer_null(WebSessions::TokenId))
                .col(string_len(WebSessions::Csrf, 64))
                .col(big_integer(WebSessions::CreatedAt))
                .col(big_integer(WebSessions::ExpiresAt))
                .col(big_integer(WebSessions::LastSeenAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebSessions::Table, WebSessions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WebSessions::Table, WebSessions::TokenId)
                        .to(Tokens::Table, Tokens::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("web_sessions_user")
                .table(WebSessions::Table)
                .col(WebSessions::UserId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("web_sessions_expires_at")
                .table(WebSessions::Table)
                .col(WebSessions::ExpiresAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebSessions::Table).to_owned()).await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::PasswordHash)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
