//! The queries behind the stack check: the whole catalogue as the resolver reads it,
//! and a cheap "generation" that changes whenever the catalogue may have.
//!
//! Every publish, yank, unyank and spec publish appends an event to the sequence in the
//! same transaction as the change (`db::events`), numbered gap-free in commit order. So
//! the number of the last event changes with every committed change to the catalogue
//! (and with some that do not touch it, such as key changes, which only cost a reload).

use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use super::entities::package_versions::{self, Entity as Versions};
use super::entities::packages::{self, Entity as Packages};

/// Where the catalogue stands: equal generations mean an unchanged catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    /// The number of the last committed event.
    pub last_event: i64,
}

/// The current [`Generation`].
pub async fn generation(db: &impl ConnectionTrait) -> Result<Generation, DbErr> {
    Ok(Generation {
        last_event: super::events::last_seq(db).await?,
    })
}

/// Every package (id, name) and every published version, yanked ones included.
pub async fn everything(
    db: &impl ConnectionTrait,
) -> Result<(Vec<packages::Model>, Vec<package_versions::Model>), DbErr> {
    // Versions first: package rows are never deleted, so every version read has its
    // package in the second read even if a first publish commits in between.
    let versions = Versions::find().all(db).await?;
    let packages = Packages::find().all(db).await?;
    Ok((packages, versions))
}
