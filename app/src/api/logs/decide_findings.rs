use leptos::prelude::*;

use crate::AppError;

/// Redact (`approved`) or keep (`rejected`) findings. `scope` is `finding`
/// (target: a finding id), `value` (target: a finding id; every finding
/// with its type and value), `type` (target: a PII type) or `pending`.
#[server(prefix = "/api", endpoint = "decide_findings")]
pub async fn decide_findings(
    file_id: String,
    scope: String,
    target: String,
    decision: String,
) -> Result<u64, AppError> {
    use tftsr_core::logs::{Decision, DecisionScope};
    use tftsr_core::pii::PiiType;
    let file = super::parse_file_id(&file_id)?;
    let decision = Decision::parse(&decision)
        .ok_or_else(|| AppError::BadRequest("Unknown decision.".into()))?;
    let finding = || {
        target
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::BadRequest("Unknown finding.".into()))
    };
    let scope = match scope.as_str() {
        "finding" => DecisionScope::Finding(finding()?),
        "value" => DecisionScope::SameValue { like: finding()? },
        "type" => DecisionScope::Type(
            PiiType::parse(target.trim())
                .ok_or_else(|| AppError::BadRequest("Unknown type.".into()))?,
        ),
        "pending" => DecisionScope::AllPending,
        _ => return Err(AppError::BadRequest("Unknown scope.".into())),
    };
    crate::services::blocking(move |s| s.logs.decide(file, scope, decision)).await
}
