//! Reads what the machine has for local models: CPU, RAM and GPUs.
//!
//! Linux is read from `/proc` and `/sys` (every driver's cards are listed
//! under `/sys/class/drm`; AMD's amdgpu reports its VRAM there) and from
//! `nvidia-smi` when it is installed; macOS from `sysctl`. Each source that
//! is missing or fails adds a note instead of an error: the page still shows
//! what could be read. Parsing is in [`tftsr_core::ai::sizing`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use tftsr_core::ai::sizing::{self, Gpu, GpuVendor, Hardware};

/// How long `nvidia-smi` or `sysctl` may take before it is given up on.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the facts are read from; tests point it at a fake tree.
#[derive(Clone, Debug)]
pub struct HardwareProbe {
    pub proc_root: PathBuf,
    pub sys_root: PathBuf,
    /// The `nvidia-smi` to run, found on `PATH` by default.
    pub nvidia_smi: PathBuf,
}

impl Default for HardwareProbe {
    fn default() -> Self {
        Self {
            proc_root: PathBuf::from("/proc"),
            sys_root: PathBuf::from("/sys"),
            nvidia_smi: PathBuf::from("nvidia-smi"),
        }
    }
}

impl HardwareProbe {
    /// Reads everything it can. Never fails: what is missing is noted.
    pub async fn detect(&self) -> Hardware {
        let mut hw = Hardware {
            os: std::env::consts::OS.to_owned(),
            cpu_threads: std::thread::available_parallelism()
                .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
                .unwrap_or(1),
            ..Hardware::default()
        };
        if cfg!(target_os = "macos") {
            self.read_macos(&mut hw).await;
        } else {
            self.read_linux(&mut hw).await;
        }
        hw
    }

    async fn read_linux(&self, hw: &mut Hardware) {
        match tokio::fs::read_to_string(self.proc_root.join("meminfo")).await {
            Ok(text) => match sizing::parse_meminfo(&text) {
                Some((total, available)) => {
                    hw.ram_total = Some(total);
                    hw.ram_available = Some(available);
                }
                None => hw
                    .notes
                    .push("The memory figures in /proc/meminfo could not be read.".into()),
            },
            Err(e) => hw
                .notes
                .push(format!("/proc/meminfo could not be read ({}).", e.kind())),
        }
        if let Ok(text) = tokio::fs::read_to_string(self.proc_root.join("cpuinfo")).await {
            let (model, threads) = sizing::parse_cpuinfo(&text);
            hw.cpu_model = model;
            if threads > 0 {
                hw.cpu_threads = threads;
            }
        }
        match run(
            &self.nvidia_smi,
            &[
                "--query-gpu=name,memory.total,memory.free",
                "--format=csv,noheader,nounits",
            ],
        )
        .await
        {
            Ok(out) => hw.gpus.extend(sizing::parse_nvidia_smi(&out)),
            Err(RunError::NotInstalled) => {}
            Err(e) => hw.notes.push(format!("nvidia-smi failed: {e}.")),
        }
        let have_nvidia = hw.gpus.iter().any(|g| g.vendor == GpuVendor::Nvidia);
        for gpu in drm_cards(&self.sys_root.join("class/drm")).await {
            // nvidia-smi already described NVIDIA cards, with their memory.
            if gpu.vendor == GpuVendor::Nvidia && have_nvidia {
                continue;
            }
            if gpu.vendor == GpuVendor::Nvidia {
                hw.notes.push(
                    "An NVIDIA card is present but nvidia-smi is not installed, so its memory \
                     is unknown."
                        .into(),
                );
            }
            hw.gpus.push(gpu);
        }
        if hw.gpus.is_empty() {
            hw.notes
                .push("No graphics card was found: models would run on the CPU.".into());
        }
    }

    async fn read_macos(&self, hw: &mut Hardware) {
        match run(
            Path::new("sysctl"),
            &[
                "-n",
                "hw.memsize",
                "machdep.cpu.brand_string",
                "hw.logicalcpu",
            ],
        )
        .await
        {
            Ok(out) => {
                let (memory, brand, threads) = sizing::parse_sysctl(&out);
                hw.ram_total = memory;
                if let Some(t) = threads {
                    hw.cpu_threads = t;
                }
                if let (Some(brand), Some(memory)) = (&brand, memory) {
                    hw.gpus.extend(sizing::apple_unified_gpu(brand, memory));
                }
                hw.cpu_model = brand;
            }
            Err(e) => hw.notes.push(format!("sysctl failed: {e}.")),
        }
        hw.notes
            .push("Free memory is not read on macOS; the sizes assume the whole of it.".into());
    }
}

/// The cards under `/sys/class/drm/cardN/device`: vendor from the PCI id,
/// VRAM where the driver reports it (amdgpu).
async fn drm_cards(drm: &Path) -> Vec<Gpu> {
    let Ok(mut dir) = tokio::fs::read_dir(drm).await else {
        return Vec::new();
    };
    let mut cards = Vec::new();
    while let Ok(Some(entry)) = dir.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        // card0, card1 ...; not the connectors (card0-HDMI-A-1) or render nodes.
        let is_card = name
            .strip_prefix("card")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if is_card {
            cards.push(name);
        }
    }
    cards.sort();
    let mut gpus = Vec::new();
    for card in cards {
        let device = drm.join(&card).join("device");
        let read = |file: &str| {
            let path = device.join(file);
            async move {
                tokio::fs::read_to_string(path)
                    .await
                    .ok()
                    .map(|s| s.trim().to_owned())
            }
        };
        let Some(vendor_id) = read("vendor").await else {
            continue;
        };
        let vendor = GpuVendor::from_pci_id(&vendor_id);
        let number = |s: Option<String>| s.and_then(|v| v.parse::<u64>().ok());
        let vram_total = number(read("mem_info_vram_total").await).filter(|v| *v > 0);
        let vram_used = number(read("mem_info_vram_used").await);
        let product = read("product_name").await.filter(|p| !p.is_empty());
        let device_id = read("device").await.unwrap_or_default();
        gpus.push(Gpu {
            name: product.unwrap_or_else(|| {
                format!("{} GPU {device_id} ({card})", vendor.label()).replace("  ", " ")
            }),
            vendor,
            vram_total,
            vram_free: vram_total.zip(vram_used).map(|(t, u)| t.saturating_sub(u)),
        });
    }
    gpus
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("not installed")]
    NotInstalled,
    #[error("it did not answer within {} s", COMMAND_TIMEOUT.as_secs())]
    Timeout,
    #[error("it exited with {0}")]
    Status(std::process::ExitStatus),
    #[error("it could not be started ({0})")]
    Io(std::io::ErrorKind),
}

async fn run(program: &Path, args: &[&str]) -> Result<String, RunError> {
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(COMMAND_TIMEOUT, command.output()).await {
        Err(_) => return Err(RunError::Timeout),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RunError::NotInstalled);
        }
        Ok(Err(e)) => return Err(RunError::Io(e.kind())),
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        return Err(RunError::Status(output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
