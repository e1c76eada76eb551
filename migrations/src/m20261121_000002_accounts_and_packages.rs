//! Accounts (users, organisations that own namespaces, memberships with roles, API
//! tokens stored only as hashes), signing keys per namespace, published package
//! versions with their signatures and yank state, spec documents, and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Name,
    Admin,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    OrganisationId,
    UserId,
    Role,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    UserId,
    Name,
    Prefix,
    Hash,
    Scopes,
    ExpiresAt,
    CreatedAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    OrganisationId,
    KeyId,
    Name,
    PublicKey,
    CreatedBy,
    CreatedAt,
    RevokedAt,
    RevokeReason,
}

#[derive(DeriveIden)]
enum Packages {
    Table,
    Id,
    OrganisationId,
    Name,
    Description,
    License,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PackageVersions {
    Table,
    Id,
    PackageId,
    Version,
    ManifestDigest,
    Config,
    SignatureDigest,
    KeyId,
    PublishedBy,
    PublishedAt,
    Yanked,
    YankReason,
}

#[derive(DeriveIden)]
enum Specs {
    Table,
    Id,
    SpecId,
    Title,
    Document,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    Target,
    Digest,
    Detail,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_len_uniq(Users::Name, 64))
                .col(boolean(Users::Admin))
                .col(big_integer(Users::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Organisations::Table)
                .col(big_pk_auto(Organisations::Id))
                .col(string_len_uniq(Organisations::Name, 64))
                .col(big_integer(Organisations::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(big_integer(Memberships::OrganisationId))
                .col(big_integer(Memberships::UserId))
                .col(string_len(Memberships::Role, 16))
                .primary_key(
                    Index::create()
                        .col(Memberships::OrganisationId)
                        .col(Memberships::UserId),
                )
                .foreign_key(&mut fk(
                    (Memberships::Table, Memberships::OrganisationId),
                    (Organisations::Table, Organisations::Id),
                ))
                .foreign_key(&mut fk(
                    (Memberships::Table, Memberships::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Tokens::Table)
                .col(big_pk_auto(Tokens::Id))
                .col(big_integer(Tokens::UserId))
                .col(string_len(Tokens::Name, 64))
                .col(string_len_uniq(Tokens::Prefix, 16))
                .col(string_len(Tokens::Hash, 64))
                .col(text(Tokens::Scopes))
                .col(big_integer_null(Tokens::ExpiresAt))
                .col(big_integer(Tokens::CreatedAt))
                .col(big_integer_null(Tokens::RevokedAt))
                .col(big_integer_null(Tokens::LastUsedAt))
                .foreign_key(&mut fk((Tokens::Table, Tokens::UserId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SigningKeys::Table)
                .col(big_pk_auto(SigningKeys::Id))
                .col(big_integer(SigningKeys::OrganisationId))
                .col(string_len(SigningKeys::KeyId, 71))
                .col(string_len(SigningKeys::Name, 64))
                .col(text(SigningKeys::PublicKey))
                .col(big_integer(SigningKeys::CreatedBy))
                .col(big_integer(SigningKeys::CreatedAt))
                .col(big_integer_null(SigningKeys::RevokedAt))
                .col(text_null(SigningKeys::RevokeReason))
                .foreign_key(&mut fk(
                    (SigningKeys::Table, SigningKeys::OrganisationId),
                    (Organisations::Table, Organisations::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("signing_keys_org_key")
                .table(SigningKeys::Table)
                .col(SigningKeys::OrganisationId)
                .col(SigningKeys::KeyId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Packages::Table)
                .col(big_pk_auto(Packages::Id))
                .col(big_integer(Packages::OrganisationId))
                .col(string_len_uniq(Packages::Name, 129))
                .col(text(Packages::Description))
                .col(text(Packages::License))
                .col(big_integer(Packages::CreatedAt))
                .foreign_key(&mut fk(
                    (Packages::Table, Packages::OrganisationId),
                    (Organisations::Table, Organisations::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PackageVersions::Table)
                .col(big_pk_auto(PackageVersions::Id))
                .col(big_integer(PackageVersions::PackageId))
                .col(string_len(PackageVersions::Version, 128))
                .col(string_len(PackageVersions::ManifestDigest, 71))
                .col(text(PackageVersions::Config))
                .col(string_len(PackageVersions::SignatureDigest, 71))
                .col(string_len(PackageVersions::KeyId, 71))
                .col(big_integer(PackageVersions::PublishedBy))
                .col(big_integer(PackageVersions::PublishedAt))
                .col(boolean(PackageVersions::Yanked))
                .col(text_null(PackageVersions::YankReason))
                .foreign_key(&mut fk(
                    (PackageVersions::Table, PackageVersions::PackageId),
                    (Packages::Table, Packages::Id),
                ))
                .to_owned(),
        )
        .await?;
        // The one guard against two publishes of the same version, whatever the race.
        m.create_index(
            Index::create()
                .name("package_versions_unique")
                .table(PackageVersions::Table)
                .col(PackageVersions::PackageId)
                .col(PackageVersions::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Specs::Table)
                .col(big_pk_auto(Specs::Id))
                .col(string_len_uniq(Specs::SpecId, 129))
                .col(text(Specs::Title))
                .col(text(Specs::Document))
                .col(big_integer(Specs::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_pk_auto(AuditLog::Id))
                .col(big_integer(AuditLog::At))
                .col(string_len(AuditLog::Actor, 64))
                .col(string_len(AuditLog::Action, 32))
                .col(string_len(AuditLog::Target, 255))
                .col(string_len_null(AuditLog::Digest, 71))
                .col(text_null(AuditLog::Detail))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AuditLog::Table.into_iden(),
            Specs::Table.into_iden(),
            PackageVersions::Table.into_iden(),
            Packages::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            Tokens::Table.into_iden(),
            Memberships::Table.into_iden(),
            Organisations::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
