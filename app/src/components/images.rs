//! The issue page's images: paste a screenshot anywhere on the page, drop
//! or choose files, see thumbnails, open the original, and clear an image
//! to be shared (images cannot be scanned, so a person must look first).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tftsr_core::attachments::{ImageAttachment, MAX_IMAGE_BYTES};
use tftsr_core::logs::human_bytes;

use crate::api::images::{ClearImage, DeleteImage, list_images};
use crate::components::activity::{IssueActivity, record_changes};
use crate::components::states::{ErrorBox, Loading};
use crate::wire::{RefusedFile, UploadReport};

const ACCEPT: &str = "image/png,image/jpeg,image/gif,image/webp";

#[component]
pub fn ImagesSection(issue_id: String) -> impl IntoView {
    let query = use_query_map();
    let uploads = RwSignal::new(0u32);
    let clear = ServerAction::<ClearImage>::new();
    let delete = ServerAction::<DeleteImage>::new();
    let activity = IssueActivity::from_context();
    record_changes(move || clear.version().get() + delete.version().get());
    let issue = StoredValue::new(issue_id.clone());
    let images = Resource::new(
        move || {
            (
                issue.get_value(),
                uploads.get(),
                clear.version().get(),
                delete.version().get(),
            )
        },
        |(issue, _, _, _)| list_images(issue),
    );
    let redirected = move || {
        query.with(|q| {
            let added = q.get("images_added").and_then(|n| n.parse::<usize>().ok());
            (added, q.get("image_error"))
        })
    };
    let action_error = move || {
        clear
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| delete.value().get().and_then(Result::err))
    };
    view! {
        <section class="card" id="images" aria-labelledby="images-heading">
            <h2 id="images-heading">"Images"</h2>
            <p class="hint">
                "Screenshots and photos are encrypted on this machine. They cannot be scanned for personal data, "
                "so an image is shared (published with a document) only after you have looked at it and cleared it; "
                "what is shared has its metadata (EXIF, GPS, comments) removed."
            </p>
            {move || {
                let (added, error) = redirected();
                view! {
                    {added.filter(|n| *n > 0).map(|n| view! {
                        <p class="alert alert-ok" role="status">{format!("{n} image(s) added.")}</p>
                    })}
                    {error.map(|e| view! { <p class="alert alert-error" role="alert">{e}</p> })}
                }
            }}
            {move || action_error().map(|e| view! { <ErrorBox error=e /> })}
            <ImageUpload issue_id=issue_id on_done=Callback::new(move |()| {
                uploads.update(|n| *n += 1);
                if let Some(activity) = activity {
                    activity.bump();
                }
            }) />
            <Transition fallback=|| view! { <Loading label="Loading images…" /> }>
                {move || Suspend::new(async move {
                    match images.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty-inline" data-testid="images-empty">
                                "No images yet. Paste a screenshot (Ctrl+V) anywhere on this page, drop images here, or choose files."
                            </p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="gallery" data-testid="images">
                                {list.into_iter().map(|image| view! { <ImageCard image clear delete /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ImageCard(
    image: ImageAttachment,
    clear: ServerAction<ClearImage>,
    delete: ServerAction<DeleteImage>,
) -> impl IntoView {
    let id = image.id.to_string();
    let issue = image.issue_id.to_string();
    let full = format!("/api/images/{id}");
    let thumb = format!("/api/images/{id}/thumb");
    let (tw, th) = tftsr_core::attachments::thumb_size(
        image.width,
        image.height,
        tftsr_core::attachments::THUMB_SIDE,
    );
    let facts = format!(
        "{} · {} × {} · {}",
        image.image_type.label(),
        image.width,
        image.height,
        human_bytes(image.size_bytes)
    );
    let cleared = image.cleared_at.is_some();
    let ack_for = format!("ack-{id}");
    let ack_id = ack_for.clone();
    let (issue2, id2, issue3, id3) = (issue.clone(), id.clone(), issue.clone(), id.clone());
    view! {
        <li class="gallery-item" data-testid="image">
            <a href=full.clone() target="_blank" rel="noopener" class="thumb-link" aria-label=format!("Open {} at full size", image.name)>
                <img src=thumb alt=image.name.clone() width=tw height=th loading="lazy" decoding="async" />
            </a>
            <div class="gallery-meta">
                <strong class="image-name" title=image.name.clone()>{image.name.clone()}</strong>
                <span class="muted">{facts}</span>
                {if cleared {
                    view! { <span class="badge badge-ok" data-testid="image-state">"Cleared to share"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-warn" data-testid="image-state">"Not checked · stays here"</span> }.into_any()
                }}
            </div>
            {if cleared {
                view! {
                    <ActionForm action=clear attr:class="inline-form">
                        <input type="hidden" name="issue_id" value=issue2 />
                        <input type="hidden" name="image_id" value=id2 />
                        <input type="hidden" name="cleared" value="false" />
                        <button type="submit" class="button ghost small">"Withdraw clearance"</button>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <ActionForm action=clear attr:class="clear-form">
                        <input type="hidden" name="issue_id" value=issue2 />
                        <input type="hidden" name="image_id" value=id2 />
                        <input type="hidden" name="cleared" value="true" />
                        <label class="check" for=ack_for>
                            <input type="checkbox" id=ack_id name="acknowledged" required />
                            <span>"I opened this image at full size: it shows no personal data, secrets, tokens or internal details that must stay on this machine."</span>
                        </label>
                        <button type="submit" class="button small">"Clear to share"</button>
                    </ActionForm>
                }.into_any()
            }}
            <details class="inline-confirm">
                <summary class="button ghost small">"Remove…"</summary>
                <ActionForm action=delete>
                    <input type="hidden" name="issue_id" value=issue3 />
                    <input type="hidden" name="image_id" value=id3 />
                    <button type="submit" class="button danger small">"Yes, remove it"</button>
                </ActionForm>
            </details>
        </li>
    }
}

/// The upload form: multipart without JavaScript; with it, progress, drag
/// and drop, and pasting a screenshot anywhere on the page.
#[component]
fn ImageUpload(issue_id: String, on_done: Callback<()>) -> impl IntoView {
    let action = format!("/api/issues/{issue_id}/images");
    let progress = RwSignal::new(None::<f64>);
    let report = RwSignal::new(None::<UploadReport>);
    let dragging = RwSignal::new(false);
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let url = StoredValue::new(action.clone());

    let refuse = move |message: &str| {
        report.set(Some(UploadReport {
            uploaded: Vec::new(),
            refused: vec![RefusedFile {
                name: "upload".into(),
                message: message.to_owned(),
            }],
        }));
    };
    // Sends every image file of `files` (from the picker, a drop or the
    // clipboard).
    let send_files = move |files: Option<web_sys::FileList>| {
        #[cfg(feature = "hydrate")]
        {
            let Some(files) = files.filter(|f| f.length() > 0) else {
                refuse("Choose at least one image.");
                return;
            };
            if progress.get_untracked().is_some() {
                refuse("An upload is already running; wait for it to finish.");
                return;
            }
            match send::form(&files) {
                Ok(data) => {
                    if let Err(e) = crate::components::logs::upload::send(
                        &url.get_value(),
                        data,
                        progress,
                        report,
                        on_done,
                    ) {
                        refuse(&format!("The upload could not start: {e:?}"));
                    }
                }
                Err(_) => refuse("The images could not be read from the browser."),
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (files, url, on_done, refuse);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send_files(input_ref.get().and_then(|i| i.files()));
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        send_files(ev.data_transfer().and_then(|d| d.files()));
    };
    // A screenshot pasted anywhere on the page (not text pasted into a
    // field: only clipboard contents that are files are taken).
    #[cfg(feature = "hydrate")]
    {
        let handle =
            window_event_listener(leptos::ev::paste, move |ev: web_sys::ClipboardEvent| {
                let files = ev.clipboard_data().and_then(|d| d.files());
                if files.as_ref().is_some_and(|f| f.length() > 0) {
                    ev.prevent_default();
                    send_files(files);
                }
            });
        on_cleanup(move || handle.remove());
    }
    view! {
        <form
            class="upload"
            class:dragging=move || dragging.get()
            method="post"
            action=action
            enctype="multipart/form-data"
            data-testid="image-form"
            on:submit=on_submit
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <label class="dropzone">
                <span class="dropzone-title">"Paste a screenshot, drop images here, or choose them"</span>
                <span class="muted">{format!("PNG, JPEG, GIF or WebP, up to {} each. The type is checked from the content.", human_bytes(MAX_IMAGE_BYTES))}</span>
                <input node_ref=input_ref type="file" name="files" accept=ACCEPT multiple data-testid="image-input" />
            </label>
            <button type="submit" class="button" disabled=move || progress.get().is_some()>
                {move || if progress.get().is_some() { "Uploading…" } else { "Add images" }}
            </button>
            {move || progress.get().map(|p| {
                let percent = (p * 100.0).round().clamp(0.0, 100.0) as u32;
                view! {
                    <div class="progress-line" role="status">
                        <progress max="100" value=percent aria-label="Upload progress"></progress>
                        <span>{format!("Uploading… {percent}%")}</span>
                    </div>
                }
            })}
            {move || report.get().map(|r| {
                let added = r.uploaded.len();
                view! {
                    <div class="upload-outcome" data-testid="image-outcome">
                        {(added > 0).then(|| view! {
                            <p class="alert alert-ok" role="status">{format!("{added} image(s) added.")}</p>
                        })}
                        {r.refused.into_iter().map(|f| view! {
                            <p class="alert alert-error" role="alert"><strong>{f.name}</strong>": "{f.message}</p>
                        }).collect_view()}
                    </div>
                }
            })}
        </form>
    }
}

#[cfg(feature = "hydrate")]
mod send {
    /// A multipart body with every file under `files`; pasted screenshots
    /// (all called `image.png` by browsers) get a name with the time.
    pub fn form(files: &web_sys::FileList) -> Result<web_sys::FormData, wasm_bindgen::JsValue> {
        let data = web_sys::FormData::new()?;
        for i in 0..files.length() {
            let Some(file) = files.item(i) else { continue };
            let name = file.name();
            let name = if name.is_empty() || name == "image.png" {
                let now = js_sys_now();
                format!("Pasted screenshot {now}.png")
            } else {
                name
            };
            data.append_with_blob_and_filename("files", &file, &name)?;
        }
        Ok(data)
    }

    /// The local time as `YYYY-MM-DD HH.MM.SS`, from the browser.
    fn js_sys_now() -> String {
        let date = web_sys::js_sys::Date::new_0();
        format!(
            "{:04}-{:02}-{:02} {:02}.{:02}.{:02}",
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes(),
            date.get_seconds()
        )
    }
}
