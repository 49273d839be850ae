//! The installation itself: theme, security overview, audit log, backups.

mod audit_page;
mod backups;
mod security_overview;
mod set_theme;

pub use audit_page::*;
pub use backups::*;
pub use security_overview::*;
pub use set_theme::*;
