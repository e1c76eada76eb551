//! Publish a spec document (a building-block specification with its versions).

use govstore_core::event::Event;
use govstore_core::spec::Spec;
use sea_orm::TransactionTrait;

use super::{Error, Principal, Result, policy};
use crate::db::{self, audit};
use crate::state::AppState;

/// Publish or replace the spec described by `toml` (needs the `specs` scope).
pub async fn publish(st: &AppState, p: &Principal, toml: &str) -> Result<Spec> {
    policy::require_specs(p)?;
    let spec = Spec::from_toml_str(toml).map_err(|e| Error::invalid(e.to_string()))?;
    let digest = spec.digest();
    let txn = st.db.write.begin().await?;
    db::specs::upsert(&txn, &spec).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "spec.publish",
            target: spec.id.as_str(),
            digest: Some(&digest.to_string()),
            detail: None,
        },
    )
    .await?;
    let event = Event::SpecPublished {
        spec: spec.id.clone(),
        digest,
    };
    db::events::append(&txn, &event).await?;
    txn.commit().await?;
    Ok(spec)
}
