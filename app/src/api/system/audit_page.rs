use leptos::prelude::*;

use crate::AppError;
use crate::wire::AuditParams;
use tftsr_core::audit::AuditPage;

/// One page of the audit log, filtered; the filter is checked by core.
#[server(prefix = "/api", endpoint = "get_audit_page")]
pub async fn get_audit_page(#[server(default)] params: AuditParams) -> Result<AuditPage, AppError> {
    let query = tftsr_core::audit::AuditQuery::from_pairs(params.pairs())
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    crate::services::blocking(move |s| Ok(s.system.audit_page(&query)?)).await
}
