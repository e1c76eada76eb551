//! One accepted chunk of an upload session: its bytes are the object `object_key`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upload_parts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub upload_id: String,
    /// 0, 1, 2... in upload order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub part_index: i32,
    pub object_key: String,
    /// Where the part starts in the upload.
    pub byte_offset: i64,
    pub length: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
