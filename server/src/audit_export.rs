//! `GET /api/audit/export?format=csv|json&action=…`: the filtered audit log
//! as a file download, behind the same session check as every `/api/` route.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tftsr_app::services::SystemInfo;
use tftsr_core::audit::{AuditQuery, audit_csv};

pub async fn export(
    State(system): State<Arc<dyn SystemInfo>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let csv = match params.get("format").map(|f| f.trim()) {
        None | Some("" | "csv") => true,
        Some("json") => false,
        Some(_) => {
            return (
                StatusCode::BAD_REQUEST,
                "Choose format=csv or format=json.\n",
            )
                .into_response();
        }
    };
    let query = match AuditQuery::from_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(q) => q,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let filter = query.filter;
    let entries = match tokio::task::spawn_blocking(move || system.audit_export(&filter)).await {
        Ok(Ok(entries)) => entries,
        Ok(Err(e)) => return (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let (body, mime, ext) = if csv {
        (audit_csv(&entries), "text/csv; charset=utf-8", "csv")
    } else {
        match serde_json::to_string_pretty(&entries) {
            Ok(json) => (json, "application/json", "json"),
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    };
    let disposition = format!("attachment; filename=\"tftsr-audit.{ext}\"");
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}
