//! The browser entry point. It only hydrates the server-rendered page; all
//! UI lives in `tftsr-app`.

use leptos::prelude::document;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(tftsr_app::App);
    // A marker for end-to-end tests (and the curious): the page is now
    // interactive.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
