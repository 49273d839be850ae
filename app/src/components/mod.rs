//! Components shared by several pages.

pub mod activity;
pub mod badges;
pub mod documents;
pub mod images;
pub mod issue_form;
pub mod layout;
pub mod logs;
pub mod mcp;
pub mod providers;
pub mod publish;
pub mod states;
