//! The browser entry point. It only hydrates the server-rendered page; all
//! UI lives in `tftsr-app`.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(tftsr_app::App);
}
