//! How the issue page's timeline keeps up without a reload: the sections
//! that change the issue in place (log and image uploads, image decisions,
//! documents and action items) record that they did, and the timeline
//! reads itself again.

use leptos::prelude::*;

/// A count of the changes made on the issue page since it loaded.
#[derive(Clone, Copy, Debug)]
pub struct IssueActivity(RwSignal<u32>);

impl IssueActivity {
    /// A new count, provided to the components below.
    pub fn provide() -> Self {
        let activity = Self(RwSignal::new(0));
        provide_context(activity);
        activity
    }

    /// The page's count, when the component sits on an issue page. Call
    /// it while the component is set up (context needs the owner), not
    /// from an event handler.
    pub fn from_context() -> Option<Self> {
        use_context::<Self>()
    }

    /// Records a change.
    pub fn bump(self) {
        self.0.update(|n| *n = n.wrapping_add(1));
    }

    /// The count, tracked.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The count, untracked.
    pub fn get_untracked(self) -> u32 {
        self.0.get_untracked()
    }
}

/// Records a change on the issue page (if any) whenever `version` moves on
/// after the component is set up, e.g. a server action's version.
pub fn record_changes(version: impl Fn() -> usize + 'static) {
    if let Some(activity) = IssueActivity::from_context() {
        Effect::watch(version, move |_, _, _| activity.bump(), false);
    }
}
