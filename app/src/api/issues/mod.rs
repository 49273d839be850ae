//! Issue tracking.

mod create_issue;
mod dashboard;
mod delete_issue;
mod get_issue;
mod list_issues;
mod set_status;
mod update_issue;

pub use create_issue::*;
pub use dashboard::*;
pub use delete_issue::*;
pub use get_issue::*;
pub use list_issues::*;
pub use set_status::*;
pub use update_issue::*;
