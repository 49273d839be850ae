//! One module per page.

pub mod dashboard;
pub mod documents;
pub mod integrations;
pub mod issue_detail;
pub mod issues_list;
pub mod log_review;
pub mod mcp;
pub mod new_issue;
pub mod not_found;
pub mod ollama;
pub mod security;
pub mod settings;
pub mod timeline;
pub mod triage;
