//! An open blob upload session. Its bytes are immutable part objects (`upload_parts`) in
//! the object storage; see `storage::uploads` for the design.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub repository_id: i64,
    /// Bytes received and durably appended so far.
    pub received: i64,
    /// The SHA-256 midstate of the first `received` bytes
    /// (`storage::midstate::ResumableSha256::to_bytes`), written with `received`. NULL for
    /// an empty session and for sessions from before it was kept.
    #[sea_orm(column_type = "Blob", nullable)]
    pub hash_state: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
