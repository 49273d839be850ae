//! The log files of an issue: the upload form and the list with scanning
//! progress, shown on the issue page.
//!
//! The form is a plain multipart `<form>` that works without JavaScript
//! (the server redirects back with the outcome). Once hydrated, it uploads
//! with `XMLHttpRequest` instead, for a progress bar, accepts files dropped
//! on it, and the list refreshes itself while files are being scanned.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
pub use tftsr_core::logs::human_bytes;
use tftsr_core::logs::{LogFileSummary, LogState};

use crate::api::logs::list_logs;
use crate::components::activity::IssueActivity;
use crate::components::states::{ErrorBox, Loading};
use crate::wire::{RefusedFile, UploadReport};

#[component]
pub fn LogStateBadge(state: LogState) -> impl IntoView {
    view! { <span class=format!("badge log-{}", state.as_str())>{state.label()}</span> }
}

/// The logs card of an issue page.
#[component]
pub fn LogsSection(issue_id: String) -> impl IntoView {
    let query = use_query_map();
    let uploads = RwSignal::new(0u32);
    let tick = RwSignal::new(0u32);
    let activity = IssueActivity::from_context();
    let issue = StoredValue::new(issue_id.clone());
    let files = Resource::new(
        move || (issue.get_value(), uploads.get(), tick.get()),
        |(issue, _, _)| list_logs(issue),
    );
    // While anything is being scanned, look again shortly.
    Effect::new(move |_| {
        let scanning = files
            .get()
            .and_then(Result::ok)
            .is_some_and(|list| list.iter().any(|f| f.state == LogState::Scanning));
        if scanning {
            later(move || tick.update(|t| *t += 1), 700);
        }
    });
    // The outcome of a plain (no-JavaScript) form post.
    let redirected = move || {
        query.with(|q| {
            let error = q.get("upload_error");
            let uploaded = q.get("uploaded").and_then(|n| n.parse::<usize>().ok());
            (error, uploaded)
        })
    };
    view! {
        <section class="card" id="logs" aria-labelledby="logs-heading">
            <h2 id="logs-heading">"Logs"</h2>
            <p class="hint">
                "Logs are encrypted on this machine and scanned for personal data and secrets. "
                "Review what was found, then apply the redaction: only redacted copies can ever be sent anywhere."
            </p>
            {move || {
                let (error, uploaded) = redirected();
                view! {
                    {uploaded.filter(|n| *n > 0).map(|n| view! {
                        <p class="alert alert-ok" role="status">{format!("{n} file(s) uploaded; scanning…")}</p>
                    })}
                    {error.map(|e| view! { <p class="alert alert-error" role="alert">{e}</p> })}
                }
            }}
            <UploadForm issue_id=issue_id on_done=Callback::new(move |()| {
                uploads.update(|n| *n += 1);
                if let Some(activity) = activity {
                    activity.bump();
                }
            }) />
            <Transition fallback=|| view! { <Loading label="Loading logs…" /> }>
                {move || Suspend::new(async move {
                    match files.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty-inline" data-testid="logs-empty">"No logs yet. Upload the logs of this incident to start."</p>
                        }.into_any(),
                        Ok(list) => view! { <LogList files=list /> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn LogList(files: Vec<LogFileSummary>) -> impl IntoView {
    view! {
        <ul class="log-list" data-testid="log-list">
            {files.into_iter().map(|f| view! { <LogRow file=f /> }).collect_view()}
        </ul>
    }
}

#[component]
fn LogRow(file: LogFileSummary) -> impl IntoView {
    let href = format!("/issues/{}/logs/{}", file.issue_id, file.id);
    let percent = file.progress_percent();
    let counts = file.findings;
    view! {
        <li class="log-row" data-testid="log-row" data-state=file.state.as_str()>
            <div class="log-row-main">
                <a href=href.clone() class="log-name">{file.name.clone()}</a>
                <LogStateBadge state=file.state />
                <span class="muted">{human_bytes(file.size_bytes)}</span>
            </div>
            {match file.state {
                LogState::Scanning => view! {
                    <div class="progress-line">
                        <progress max="100" value=percent aria-label=format!("Scanning {}", file.name)></progress>
                        <span class="muted">{format!("Scanning… {percent}%")}</span>
                    </div>
                }.into_any(),
                LogState::Failed => view! {
                    <p class="alert alert-error" role="alert">{file.error.clone().unwrap_or_default()}</p>
                }.into_any(),
                LogState::Review => view! {
                    <p class="muted">
                        {format!("{} finding(s), {} not reviewed. ", counts.total(), counts.pending)}
                        <a href=href>"Review and redact"</a>
                    </p>
                }.into_any(),
                LogState::Redacted => view! {
                    <p class="muted">
                        {format!("{} redacted, {} kept. ", counts.approved + counts.pending, counts.rejected)}
                        <a href=format!("/api/logs/{}/redacted", file.id) rel="external" download="">"Download redacted copy"</a>
                    </p>
                }.into_any(),
            }}
        </li>
    }
}

/// The upload form: multipart without JavaScript, XHR with progress with it.
#[component]
pub fn UploadForm(issue_id: String, on_done: Callback<()>) -> impl IntoView {
    let action = format!("/api/issues/{issue_id}/logs");
    let progress = RwSignal::new(None::<f64>);
    let report = RwSignal::new(None::<UploadReport>);
    let dragging = RwSignal::new(false);
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let issue = StoredValue::new(issue_id);

    let start = move || {
        #[cfg(feature = "hydrate")]
        if let Some(form) = form_ref.get() {
            match web_sys::FormData::new_with_form(&form) {
                Ok(data) => {
                    let url = format!("/api/issues/{}/logs", issue.get_value());
                    if let Err(e) = upload::send(&url, data, progress, report, on_done) {
                        report.set(Some(UploadReport {
                            uploaded: Vec::new(),
                            refused: vec![RefusedFile {
                                name: "upload".into(),
                                message: format!("The upload could not start: {e:?}"),
                            }],
                        }));
                    }
                }
                Err(_) => progress.set(None),
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (form_ref, issue, on_done);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let has_files = input_ref
            .get()
            .and_then(|i| i.files())
            .is_some_and(|f| f.length() > 0);
        if !has_files {
            report.set(Some(UploadReport {
                uploaded: Vec::new(),
                refused: vec![RefusedFile {
                    name: "upload".into(),
                    message: "Choose at least one file.".into(),
                }],
            }));
            return;
        }
        start();
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let (Some(files), Some(input)) =
            (ev.data_transfer().and_then(|d| d.files()), input_ref.get())
            && files.length() > 0
        {
            input.set_files(Some(&files));
            start();
        }
    };
    view! {
        <form
            node_ref=form_ref
            class="upload"
            class:dragging=move || dragging.get()
            method="post"
            action=action
            enctype="multipart/form-data"
            data-testid="upload-form"
            on:submit=on_submit
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <label class="dropzone">
                <span class="dropzone-title">"Drop log files here, or choose them"</span>
                <span class="muted">"Plain text, UTF-16 or Latin-1, optionally .gz. Several at once."</span>
                <input node_ref=input_ref type="file" name="files" multiple data-testid="upload-input" />
            </label>
            <button type="submit" class="button primary" disabled=move || progress.get().is_some()>
                {move || if progress.get().is_some() { "Uploading…" } else { "Upload" }}
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
            {move || report.get().map(|r| view! { <UploadOutcome report=r /> })}
        </form>
    }
}

#[component]
fn UploadOutcome(report: UploadReport) -> impl IntoView {
    let uploaded = report.uploaded.len();
    view! {
        <div class="upload-outcome" data-testid="upload-outcome">
            {(uploaded > 0).then(|| view! {
                <p class="alert alert-ok" role="status">{format!("{uploaded} file(s) uploaded; scanning…")}</p>
            })}
            {report.refused.into_iter().map(|r| view! {
                <p class="alert alert-error" role="alert"><strong>{r.name}</strong>": "{r.message}</p>
            }).collect_view()}
        </div>
    }
}

/// Runs `f` after `ms` milliseconds in the browser; nothing on the server.
pub fn later(f: impl FnOnce() + 'static, ms: u64) {
    #[cfg(feature = "hydrate")]
    set_timeout(f, std::time::Duration::from_millis(ms));
    #[cfg(not(feature = "hydrate"))]
    let _ = (f, ms);
}

/// Multipart uploads with progress, shared by the log and image forms.
#[cfg(feature = "hydrate")]
pub(crate) mod upload {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    use crate::wire::{RefusedFile, UploadReport};

    fn failed(message: String) -> UploadReport {
        UploadReport {
            uploaded: Vec::new(),
            refused: vec![RefusedFile {
                name: "upload".into(),
                message,
            }],
        }
    }

    /// Posts `data` to `url` with progress events; the report lands in
    /// `report`.
    pub fn send(
        url: &str,
        data: web_sys::FormData,
        progress: RwSignal<Option<f64>>,
        report: RwSignal<Option<UploadReport>>,
        on_done: Callback<()>,
    ) -> Result<(), wasm_bindgen::JsValue> {
        let xhr = web_sys::XmlHttpRequest::new()?;
        xhr.open("POST", url)?;
        xhr.set_request_header("Accept", "application/json")?;
        progress.set(Some(0.0));
        report.set(None);

        let on_progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                if e.length_computable() && e.total() > 0.0 {
                    progress.set(Some(e.loaded() / e.total()));
                }
            });
        xhr.upload()?
            .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));

        let done = xhr.clone();
        let on_load = Closure::<dyn FnMut()>::new(move || {
            let text = done.response_text().ok().flatten().unwrap_or_default();
            let status = done.status().unwrap_or(0);
            let outcome = serde_json::from_str::<UploadReport>(&text).unwrap_or_else(|_| {
                failed(match status {
                    413 => "The upload is larger than the server accepts.".to_owned(),
                    401 => "You are signed out; open the link TFTSR printed.".to_owned(),
                    _ => format!("The upload failed (HTTP {status})."),
                })
            });
            progress.set(None);
            report.set(Some(outcome));
            on_done.run(());
        });
        xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));

        let on_error = Closure::<dyn FnMut()>::new(move || {
            progress.set(None);
            report.set(Some(failed(
                "The upload failed: the server could not be reached.".to_owned(),
            )));
        });
        xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));

        xhr.send_with_opt_form_data(Some(&data))?;
        // The handlers must outlive this call; they live as long as the
        // page (one small closure set per upload).
        on_progress.forget();
        on_load.forget();
        on_error.forget();
        Ok(())
    }
}
