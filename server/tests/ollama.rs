//! The Ollama page's service: hardware read from a fake `/proc` and `/sys`
//! tree and a stand-in `nvidia-smi`, and model management against a local
//! server speaking Ollama's API (list, pull with progress, cancel, delete),
//! with its audit entries, through the same services the server wires.

mod common;
mod fake_llm;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::web::*;
use fake_llm::{FakeServer, Reply};
use serde_json::json;
use tftsr_app::AppError;
use tftsr_app::services::OllamaService;
use tftsr_app::wire::PullState;
use tftsr_core::IssueStore;
use tftsr_core::ai::sizing::GpuVendor;
use tftsr_core::ai::{ProviderDraft, ProviderId};
use tftsr_server::hardware::HardwareProbe;

const GIB: u64 = 1024 * 1024 * 1024;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// An executable shell script standing in for a command.
fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    write(path, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn fake_machine(root: &Path) -> HardwareProbe {
    write(
        &root.join("proc/meminfo"),
        "MemTotal:       65536000 kB\nMemFree:         2000000 kB\nMemAvailable:   40960000 kB\n",
    );
    write(
        &root.join("proc/cpuinfo"),
        &(0..16)
            .map(|n| {
                format!("processor\t: {n}\nmodel name\t: AMD Ryzen 9 7950X 16-Core Processor\n\n")
            })
            .collect::<String>(),
    );
    let drm = root.join("sys/class/drm");
    // An AMD card with its VRAM, the NVIDIA card nvidia-smi describes, an
    // Intel iGPU, and entries that are not cards.
    write(&drm.join("card0/device/vendor"), "0x1002\n");
    write(&drm.join("card0/device/device"), "0x744c\n");
    write(
        &drm.join("card0/device/mem_info_vram_total"),
        &format!("{}\n", 20 * GIB),
    );
    write(
        &drm.join("card0/device/mem_info_vram_used"),
        &format!("{}\n", 2 * GIB),
    );
    write(&drm.join("card1/device/vendor"), "0x10de\n");
    write(&drm.join("card2/device/vendor"), "0x8086\n");
    write(
        &drm.join("card2/device/product_name"),
        "Intel UHD Graphics 770\n",
    );
    write(&drm.join("card0-DP-1/status"), "connected\n");
    write(&drm.join("renderD128/dev"), "226:128\n");
    script(
        &root.join("bin/nvidia-smi"),
        "echo 'NVIDIA GeForce RTX 4090, 24564, 24000'",
    );
    HardwareProbe {
        proc_root: root.join("proc"),
        sys_root: root.join("sys"),
        nvidia_smi: root.join("bin/nvidia-smi"),
    }
}

#[tokio::test]
async fn hardware_is_read_from_proc_sys_and_nvidia_smi() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hw = fake_machine(dir.path()).detect().await;
    assert_eq!(
        hw.cpu_model.as_deref(),
        Some("AMD Ryzen 9 7950X 16-Core Processor")
    );
    assert_eq!(hw.cpu_threads, 16);
    assert_eq!(hw.ram_total, Some(65_536_000 * 1024));
    assert_eq!(hw.ram_available, Some(40_960_000 * 1024));
    let gpus: Vec<_> = hw.gpus.iter().map(|g| (g.vendor, g.vram_total)).collect();
    assert_eq!(
        gpus,
        vec![
            (GpuVendor::Nvidia, Some(24_564 * 1024 * 1024)),
            (GpuVendor::Amd, Some(20 * GIB)),
            (GpuVendor::Intel, None),
        ],
        "nvidia-smi's card first, the same card not again from /sys: {:?}",
        hw.gpus
    );
    assert_eq!(hw.gpus[1].vram_free, Some(18 * GIB));
    assert!(hw.gpus[1].name.contains("AMD"), "{}", hw.gpus[1].name);
    assert_eq!(hw.gpus[2].name, "Intel UHD Graphics 770");
    assert_eq!(hw.best_gpu().map(|g| g.vendor), Some(GpuVendor::Nvidia));
    assert!(hw.notes.is_empty(), "{:?}", hw.notes);
}

#[tokio::test]
async fn missing_or_failing_sources_become_notes_not_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(&root.join("sys/class/drm/card0/device/vendor"), "0x10de\n");
    let probe = HardwareProbe {
        proc_root: root.join("proc"),
        sys_root: root.join("sys"),
        nvidia_smi: root.join("bin/nvidia-smi"),
    };
    let hw = probe.detect().await;
    assert_eq!(hw.ram_total, None);
    assert!(
        hw.cpu_threads >= 1,
        "falls back to the thread count std sees"
    );
    let notes = hw.notes.join(" | ");
    assert!(notes.contains("/proc/meminfo could not be read"), "{notes}");
    assert!(notes.contains("nvidia-smi is not installed"), "{notes}");
    assert_eq!(hw.gpus[0].vram_total, None);

    script(
        &root.join("bin/nvidia-smi"),
        "echo 'NVML: driver mismatch' >&2; exit 9",
    );
    write(&root.join("proc/meminfo"), "garbage\n");
    let hw = probe.detect().await;
    let notes = hw.notes.join(" | ");
    assert!(
        notes.contains("nvidia-smi failed: it exited with"),
        "{notes}"
    );
    assert!(notes.contains("could not be read"), "{notes}");
    assert!(!notes.contains("NVML"), "stderr is not shown: {notes}");
}

fn ollama_provider(h: &Harness, url: &str, key: Option<&str>) -> ProviderId {
    let triage = h.services.triage.clone();
    triage
        .save_provider(
            None,
            ProviderDraft {
                name: "Workstation Ollama".into(),
                kind: "ollama".into(),
                base_url: url.into(),
                model: "llama3.2:3b".into(),
                api_key: key.map(str::to_owned),
                context_tokens: "16384".into(),
            },
        )
        .expect("saved")
        .id
}

async fn pulls(o: &Arc<dyn OllamaService>, server: ProviderId) -> Vec<PullState> {
    let o = o.clone();
    tokio::task::spawn_blocking(move || o.pulls(Some(server)))
        .await
        .expect("join")
        .expect("pulls")
}

async fn until_done(
    o: &Arc<dyn OllamaService>,
    server: ProviderId,
    model: &str,
) -> (PullState, Vec<PullState>) {
    let mut seen = Vec::new();
    for _ in 0..400 {
        let list = pulls(o, server).await;
        let state = list
            .into_iter()
            .find(|p| p.model == model)
            .expect("the pull is listed");
        if state.done {
            return (state, seen);
        }
        seen.push(state);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the pull of {model} never finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_are_listed_pulled_with_progress_and_deleted_with_audit() {
    let fake = FakeServer::start(vec![
        Reply::json(200, json!({"models": [
            {"name": "qwen2.5:7b", "size": 4683087332u64},
            {"name": "llama3.2:latest", "size": 2019393189u64}]})),
        Reply::ndjson(&[
            "{\"status\":\"pulling manifest\"}\n",
            "{\"status\":\"pulling dde5aa3fc5ff\",\"digest\":\"sha256:dde5aa3fc5ff\",\"total\":2019377376,\"completed\":504844344}\n",
            "{\"status\":\"pulling dde5aa3fc5ff\",\"digest\":\"sha256:dde5aa3fc5ff\",\"total\":2019377376,\"completed\":1514533032}\n",
            "{\"status\":\"verifying sha256 digest\"}\n",
            "{\"status\":\"writing manifest\"}\n{\"status\":\"success\"}\n",
        ])
        .chunk_delay(Duration::from_millis(60)),
        Reply::json(200, json!({"models": [{"name": "llama3.2:3b", "size": 2019393189u64}]})),
        Reply::raw(200, "text/plain", ""),
        Reply::ndjson(&["{\"status\":\"pulling manifest\"}\n", "{\"error\":\"pull model manifest: file does not exist\"}\n"]),
    ])
    .await;
    let h = harness();
    let ollama = h.services.ollama.clone();
    let server = ollama_provider(&h, &fake.url(""), Some("proxy-key-5555"));

    let servers = ollama.servers().expect("servers");
    assert_eq!(
        servers.len(),
        1,
        "the configured server replaces the default"
    );
    assert_eq!(servers[0].provider_id, server.to_string());
    assert_eq!(servers[0].base_url, fake.url(""));

    let models = ollama.models(Some(server)).await.expect("models");
    let names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["llama3.2:latest", "qwen2.5:7b"], "sorted by name");
    assert_eq!(models[1].size_bytes, Some(4_683_087_332));
    assert_eq!(
        fake.request(0).header("authorization"),
        Some("Bearer proxy-key-5555")
    );

    let o = ollama.clone();
    tokio::task::spawn_blocking(move || o.pull(Some(server), " llama3.2:3b ".into()))
        .await
        .expect("join")
        .expect("pull starts");
    // A second pull of the same model while the first runs is refused.
    let o = ollama.clone();
    let again = tokio::task::spawn_blocking(move || o.pull(Some(server), "llama3.2:3b".into()))
        .await
        .expect("join");
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");

    let (done, seen) = until_done(&ollama, server, "llama3.2:3b").await;
    assert_eq!(done.error, None);
    assert_eq!(done.status, "success");
    assert_eq!(done.percent(), Some(100));
    let percents: Vec<u8> = seen.iter().filter_map(PullState::percent).collect();
    assert!(
        percents.contains(&25) && percents.contains(&75),
        "the page saw the bar move: {percents:?}"
    );
    assert_eq!(
        fake.request(1).body(),
        &json!({"model": "llama3.2:3b", "stream": true})
    );

    let models = ollama.models(Some(server)).await.expect("models");
    assert_eq!(models[0].name, "llama3.2:3b");

    ollama
        .delete(Some(server), "llama3.2:3b".into())
        .await
        .expect("deleted");
    let delete = fake.request(3);
    assert_eq!(
        (delete.method.as_str(), delete.uri.as_str()),
        ("DELETE", "/api/delete")
    );

    // A failed download says why, in the list.
    let o = ollama.clone();
    tokio::task::spawn_blocking(move || o.pull(Some(server), "nope:1b".into()))
        .await
        .expect("join")
        .expect("pull starts");
    let (failed, _) = until_done(&ollama, server, "nope:1b").await;
    let error = failed.error.expect("an error");
    assert!(error.contains("file does not exist"), "{error}");

    let audit = h.t.db.recent_audit(20).expect("audit");
    let actions: Vec<_> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "model_pulled").count(),
        2,
        "{actions:?}"
    );
    let deleted = audit
        .iter()
        .find(|a| a.action == "model_deleted")
        .expect("deletion audited");
    assert_eq!(deleted.entity_id, server.to_string());
    assert_eq!(deleted.details["model"], "llama3.2:3b");
    assert_eq!(deleted.details["base_url"], fake.url(""));
    let text = serde_json::to_string(&audit).expect("json");
    assert!(!text.contains("proxy-key-5555"), "no key in the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_can_be_cancelled() {
    let fake = FakeServer::start(vec![
        Reply::ndjson(&[
            "{\"status\":\"pulling manifest\"}\n",
            "{\"status\":\"pulling aa\",\"digest\":\"sha256:aa\",\"total\":1000,\"completed\":10}\n",
            "{\"status\":\"success\"}\n",
        ])
        .chunk_delay(Duration::from_secs(30)),
    ])
    .await;
    let h = harness();
    let ollama = h.services.ollama.clone();
    let server = ollama_provider(&h, &fake.url(""), None);
    let o = ollama.clone();
    tokio::task::spawn_blocking(move || o.pull(Some(server), "big:70b".into()))
        .await
        .expect("join")
        .expect("pull starts");
    let listed = pulls(&ollama, server).await;
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].done);
    let o = ollama.clone();
    tokio::task::spawn_blocking(move || o.cancel_pull(Some(server), "big:70b".into()))
        .await
        .expect("join")
        .expect("cancelled");
    assert!(pulls(&ollama, server).await.is_empty());
    let o = ollama.clone();
    let missing =
        tokio::task::spawn_blocking(move || o.cancel_pull(Some(server), "big:70b".into()))
            .await
            .expect("join");
    assert!(matches!(missing, Err(AppError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_and_a_wrong_provider_give_clear_errors() {
    let h = harness();
    let ollama = h.services.ollama.clone();
    // Nothing configured: the local default is offered.
    let servers = ollama.servers().expect("servers");
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].provider_id, "");
    assert_eq!(servers[0].base_url, "http://127.0.0.1:11434");

    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let server = ollama_provider(&h, &url, None);
    let e = ollama.models(Some(server)).await.expect_err("unreachable");
    assert!(matches!(e, AppError::Unavailable(_)), "{e:?}");
    assert!(e.to_string().contains("is it running?"), "{e}");
    assert!(e.to_string().contains("ollama serve"), "{e}");

    let o = ollama.clone();
    let bad = tokio::task::spawn_blocking(move || o.pull(Some(server), "  ".into()))
        .await
        .expect("join");
    assert!(matches!(bad, Err(AppError::BadRequest(_))), "{bad:?}");

    let triage = h.services.triage.clone();
    let openai = triage
        .save_provider(
            None,
            ProviderDraft {
                name: "Cloud".into(),
                kind: "openai".into(),
                base_url: String::new(),
                model: "gpt-4o-mini".into(),
                api_key: Some("sk-test-abcd".into()),
                context_tokens: String::new(),
            },
        )
        .expect("saved")
        .id;
    let e = ollama.models(Some(openai)).await.expect_err("not ollama");
    assert!(matches!(e, AppError::BadRequest(_)), "{e:?}");
    // Nothing was audited for refused or failed requests.
    let audit = h.t.db.recent_audit(20).expect("audit");
    assert!(audit.iter().all(|a| !a.action.starts_with("model_")));
}

#[tokio::test]
async fn the_page_sizes_follow_the_ollama_providers_context() {
    let h = harness();
    let report = h.services.ollama.hardware().await.expect("report");
    assert_eq!(report.context_tokens, 8_192, "Ollama's default");
    assert_eq!(report.recommendations.len(), 6);
    let fake = FakeServer::start(vec![]).await;
    ollama_provider(&h, &fake.url(""), None);
    let report = h.services.ollama.hardware().await.expect("report");
    assert_eq!(report.context_tokens, 16_384);
    let need = |r: &tftsr_app::wire::HardwareReport| r.recommendations[2].memory_needed;
    let again = h.services.ollama.hardware().await.expect("report");
    assert_eq!(need(&report), need(&again));
}
