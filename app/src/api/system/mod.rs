//! The installation itself: theme, security overview.

mod security_overview;
mod set_theme;

pub use security_overview::*;
pub use set_theme::*;
