//! Spec documents.

use std::collections::BTreeMap;

use govstore_core::package::SpecId;
use govstore_core::spec::Spec;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::specs::{self, Entity as Specs};

/// Insert or replace a spec by id.
pub async fn upsert(db: &impl ConnectionTrait, spec: &Spec) -> Result<(), DbErr> {
    Specs::insert(specs::ActiveModel {
        spec_id: Set(spec.id.to_string()),
        title: Set(spec.title.clone()),
        document: Set(spec.canonical_json()),
        updated_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(specs::Column::SpecId)
            .update_columns([specs::Column::Title, specs::Column::Document, specs::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

fn parse(row: specs::Model) -> Result<Spec, DbErr> {
    Spec::from_canonical_json(&row.document).map_err(|e| DbErr::Custom(format!("stored spec {}: {e}", row.spec_id)))
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Spec>, DbErr> {
    Specs::find()
        .filter(specs::Column::SpecId.eq(id))
        .one(db)
        .await?
        .map(parse)
        .transpose()
}

/// Every spec, by id: what the spec-reference check of a publish runs against.
pub async fn all(db: &impl ConnectionTrait) -> Result<BTreeMap<SpecId, Spec>, DbErr> {
    Specs::find()
        .order_by_asc(specs::Column::SpecId)
        .all(db)
        .await?
        .into_iter()
        .map(|row| parse(row).map(|s| (s.id.clone(), s)))
        .collect()
}
