//! Wardside's central service: a blind, authenticated relay. It stores each sealed op with the
//! routing metadata it needs (organisation, team, case, device, sequence), hands ops out by
//! its own cursor, and decides who may see what from that metadata alone.
//!
//! What it must never do: hold a key that opens an op, log or store content, or drop an op
//! silently (a conflicting re-push is refused, never ignored).

pub mod config;
pub mod enrolment;
pub mod http;
pub mod metrics;
pub mod relay;
pub mod storage;

use storage::{EnrolmentCode, Storage, StorageError};

/// What `init-org` prints: the new organisation and the code its first device (the admin)
/// enrols with.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewOrg {
    pub org_id: uuid::Uuid,
    pub enrolment_code: String,
}

/// Create an organisation with one team (whose id is the organisation's) and a one-time code
/// for its first device, which becomes its first admin and founds its trust log.
pub async fn init_org(storage: &impl Storage, name: &str) -> Result<NewOrg, StorageError> {
    let org_id = uuid::Uuid::new_v4();
    storage.create_org(org_id, name.to_owned()).await?;
    let code = wardside_sync::codes::new_code(wardside_sync::codes::CodeKind::Organisation)
        .map_err(|_| StorageError::Backend("the system's random number generator failed".into()))?;
    storage
        .add_enrolment_code(EnrolmentCode {
            code_hash: enrolment::stored_hash(&code),
            org_id,
            admin: true,
            teams: vec![org_id],
            expires_ms: http::now_ms() + enrolment::CODE_LIFETIME_MS,
            root_key: None,
            binding: None,
        })
        .await?;
    Ok(NewOrg {
        org_id,
        enrolment_code: code,
    })
}
