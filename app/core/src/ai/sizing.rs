//! Which local models fit this machine.
//!
//! The server reads the machine's facts (`/proc/meminfo`, `/proc/cpuinfo`,
//! `nvidia-smi`, the DRM devices in `/sys`, `sysctl` on macOS); the parsing
//! of what those sources print and the sizing arithmetic live here, so both
//! are tested without the hardware.
//!
//! A model's memory need is estimated as its 4-bit quantised weights
//! (Ollama's default `Q4_K_M`, about 4.85 bits a parameter), the KV cache
//! for the context it will be asked to hold, and a fixed runtime overhead.
//! The estimate errs on the generous side: recommending a model that then
//! swaps is worse than recommending one size smaller.

use serde::{Deserialize, Serialize};

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;
/// Bits a parameter takes in Ollama's default quantisation (`Q4_K_M`).
const Q4_BITS_PER_PARAM: f64 = 4.85;
/// The runtime's own buffers, beyond weights and KV cache.
const RUNTIME_OVERHEAD: u64 = 512 * MIB;
/// RAM left to the operating system, the browser and TFTSR when a model
/// runs from RAM.
const SYSTEM_RESERVE: u64 = 3 * GIB;
/// Beyond this size a CPU-only model answers too slowly for a conversation.
const CPU_INTERACTIVE_MAX_PARAMS: f64 = 8.5;

/// A graphics card's maker, from its PCI vendor id or its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpuVendor {
    Nvidia,
    Amd,
    Intel,
    Apple,
    Other,
}

impl GpuVendor {
    /// From a PCI vendor id as sysfs prints it (`0x10de`).
    pub fn from_pci_id(id: &str) -> Self {
        match id
            .trim()
            .trim_start_matches("0x")
            .to_ascii_lowercase()
            .as_str()
        {
            "10de" => Self::Nvidia,
            "1002" | "1022" => Self::Amd,
            "8086" => Self::Intel,
            "106b" => Self::Apple,
            _ => Self::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Nvidia => "NVIDIA",
            Self::Amd => "AMD",
            Self::Intel => "Intel",
            Self::Apple => "Apple",
            Self::Other => "Other",
        }
    }

    /// Whether Ollama can run models on this vendor's cards (CUDA, ROCm,
    /// Metal). Intel and unknown cards are listed but not counted on.
    pub fn accelerates(self) -> bool {
        matches!(self, Self::Nvidia | Self::Amd | Self::Apple)
    }
}

/// One graphics adapter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gpu {
    pub name: String,
    pub vendor: GpuVendor,
    /// Dedicated memory, when the driver tells; for Apple silicon, the share
    /// of unified memory Metal may use.
    pub vram_total: Option<u64>,
    pub vram_free: Option<u64>,
}

/// What the server could learn about the machine it runs on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    pub os: String,
    pub cpu_model: Option<String>,
    pub cpu_threads: u32,
    pub ram_total: Option<u64>,
    pub ram_available: Option<u64>,
    pub gpus: Vec<Gpu>,
    /// What could not be read, in words (shown, so a blank is explained).
    pub notes: Vec<String>,
}

impl Hardware {
    /// The accelerator a model would run on: the usable GPU with the most
    /// memory.
    pub fn best_gpu(&self) -> Option<&Gpu> {
        self.gpus
            .iter()
            .filter(|g| g.vendor.accelerates() && g.vram_total.is_some())
            .max_by_key(|g| g.vram_total.unwrap_or(0))
    }
}

/// `/proc/meminfo`: `(MemTotal, MemAvailable)` in bytes. Kernels older than
/// 3.14 lack `MemAvailable`; free + buffers + cached stands in.
pub fn parse_meminfo(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let mut parts = rest.split_whitespace();
            let value: u64 = parts.next()?.parse().ok()?;
            let unit = match parts.next() {
                Some("kB") | Some("KB") => 1024,
                None => 1,
                Some(_) => return None,
            };
            value.checked_mul(unit)
        })
    };
    let total = field("MemTotal")?;
    let available = field("MemAvailable").or_else(|| {
        Some(field("MemFree")? + field("Buffers").unwrap_or(0) + field("Cached").unwrap_or(0))
    })?;
    Some((total, available.min(total)))
}

/// `/proc/cpuinfo`: the CPU's model name and the number of logical CPUs.
/// ARM kernels name the model in `Hardware` or not at all.
pub fn parse_cpuinfo(text: &str) -> (Option<String>, u32) {
    let mut model = None;
    let mut threads = 0u32;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        let value = value.trim();
        if key == "processor" {
            threads += 1;
        } else if model.is_none() && (key == "model name" || key == "Hardware") && !value.is_empty()
        {
            model = Some(collapse_spaces(value));
        }
    }
    (model, threads)
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The CSV `nvidia-smi --query-gpu=name,memory.total,memory.free
/// --format=csv,noheader,nounits` prints: one card a line, memory in MiB.
/// Lines that don't parse (driver warnings) are skipped.
pub fn parse_nvidia_smi(csv: &str) -> Vec<Gpu> {
    csv.lines()
        .filter_map(|line| {
            let mut fields = line.split(',').map(str::trim);
            let name = fields.next().filter(|n| !n.is_empty())?;
            let mib = |f: Option<&str>| f.and_then(|v| v.parse::<u64>().ok()).map(|v| v * MIB);
            let total = mib(fields.next());
            let free = mib(fields.next());
            total?;
            Some(Gpu {
                name: collapse_spaces(name),
                vendor: GpuVendor::Nvidia,
                vram_total: total,
                vram_free: free,
            })
        })
        .collect()
}

/// The `sysctl -n hw.memsize machdep.cpu.brand_string hw.logicalcpu`
/// output of macOS: `(memory, brand, threads)`.
pub fn parse_sysctl(text: &str) -> (Option<u64>, Option<String>, Option<u32>) {
    let mut lines = text.lines().map(str::trim);
    let memory = lines.next().and_then(|l| l.parse().ok());
    let brand = lines.next().filter(|l| !l.is_empty()).map(collapse_spaces);
    let threads = lines.next().and_then(|l| l.parse().ok());
    (memory, brand, threads)
}

/// Apple silicon shares its memory with the GPU; Metal may use about three
/// quarters of it (two thirds on machines with 36 GiB or less).
pub fn apple_unified_gpu(brand: &str, memory: u64) -> Option<Gpu> {
    if !brand.contains("Apple") {
        return None;
    }
    let share = if memory <= 36 * GIB {
        memory / 3 * 2
    } else {
        memory / 4 * 3
    };
    Some(Gpu {
        name: format!("{brand} (unified memory)"),
        vendor: GpuVendor::Apple,
        vram_total: Some(share),
        vram_free: None,
    })
}

/// A family of model sizes people pull, with examples from Ollama's
/// library.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelClass {
    pub label: &'static str,
    /// Parameters, in billions.
    pub params_b: f64,
    /// KV cache a token of context takes at f16, in bytes (layers ×
    /// KV heads × head size × 2 × 2 of a typical model of the size).
    pub kv_bytes_per_token: u64,
    pub examples: &'static [&'static str],
}

/// The sizes the page weighs, smallest first.
pub const MODEL_CLASSES: &[ModelClass] = &[
    ModelClass {
        label: "1B",
        params_b: 1.2,
        kv_bytes_per_token: 32 * 1024,
        examples: &["llama3.2:1b", "gemma3:1b", "qwen2.5:1.5b"],
    },
    ModelClass {
        label: "3-4B",
        params_b: 3.8,
        kv_bytes_per_token: 112 * 1024,
        examples: &["llama3.2:3b", "phi4-mini", "qwen2.5:3b", "gemma3:4b"],
    },
    ModelClass {
        label: "7-8B",
        params_b: 8.0,
        kv_bytes_per_token: 128 * 1024,
        examples: &["llama3.1:8b", "qwen2.5:7b", "mistral:7b", "granite3.3:8b"],
    },
    ModelClass {
        label: "12-14B",
        params_b: 14.0,
        kv_bytes_per_token: 192 * 1024,
        examples: &["qwen2.5:14b", "phi4:14b", "gemma3:12b", "mistral-nemo:12b"],
    },
    ModelClass {
        label: "24-32B",
        params_b: 32.0,
        kv_bytes_per_token: 256 * 1024,
        examples: &["qwen2.5:32b", "mistral-small:24b", "gemma3:27b"],
    },
    ModelClass {
        label: "70B",
        params_b: 70.6,
        kv_bytes_per_token: 320 * 1024,
        examples: &["llama3.3:70b", "qwen2.5:72b"],
    },
];

impl ModelClass {
    /// Size of the quantised weights (about the download).
    pub fn weights_bytes(&self) -> u64 {
        (self.params_b * 1e9 * Q4_BITS_PER_PARAM / 8.0) as u64
    }

    /// Memory the model needs loaded with `context_tokens` of context.
    pub fn memory_needed(&self, context_tokens: u32) -> u64 {
        self.weights_bytes()
            + self.kv_bytes_per_token * u64::from(context_tokens)
            + RUNTIME_OVERHEAD
    }
}

/// Where a model would run on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Entirely in the GPU's memory: fast.
    Gpu,
    /// Split between GPU and RAM: works, noticeably slower.
    Partial,
    /// On the CPU from RAM: works, slow for larger sizes.
    Cpu,
    /// Needs more memory than the machine has.
    TooBig,
}

impl Fit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gpu => "gpu",
            Self::Partial => "partial",
            Self::Cpu => "cpu",
            Self::TooBig => "too_big",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Gpu => "Fits on the GPU",
            Self::Partial => "Splits GPU and RAM",
            Self::Cpu => "Runs on the CPU",
            Self::TooBig => "Too big",
        }
    }
}

/// One size weighed against the machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub label: String,
    pub examples: Vec<String>,
    pub download_bytes: u64,
    pub memory_needed: u64,
    pub fit: Fit,
    /// The one size the page suggests.
    pub recommended: bool,
    /// Why, in a sentence.
    pub reason: String,
}

/// Weighs every [`MODEL_CLASSES`] size against `hw` for conversations of
/// `context_tokens`. The suggested size is the largest that runs fully on
/// the GPU, else the largest interactive one (≤ 8B) that runs from RAM,
/// else none.
pub fn recommend(hw: &Hardware, context_tokens: u32) -> Vec<Recommendation> {
    let gpu = hw.best_gpu();
    let vram = gpu.and_then(|g| g.vram_total).unwrap_or(0);
    let ram_usable = hw.ram_total.map(|t| t.saturating_sub(SYSTEM_RESERVE));
    let mut out: Vec<Recommendation> = MODEL_CLASSES
        .iter()
        .map(|class| {
            let need = class.memory_needed(context_tokens);
            let (fit, reason) = match (gpu, ram_usable) {
                (Some(g), _) if need <= vram => (
                    Fit::Gpu,
                    format!(
                        "Needs about {}; {} has {}.",
                        format_bytes(need),
                        g.name,
                        format_bytes(vram)
                    ),
                ),
                (Some(g), Some(ram)) if need <= vram + ram => (
                    Fit::Partial,
                    format!(
                        "Needs about {}, more than the {} of {}: the rest runs from RAM, slower.",
                        format_bytes(need),
                        format_bytes(vram),
                        g.name
                    ),
                ),
                (_, Some(ram)) if need <= ram => (
                    Fit::Cpu,
                    if class.params_b <= CPU_INTERACTIVE_MAX_PARAMS {
                        format!(
                            "Needs about {} of RAM; runs on the CPU at conversation speed.",
                            format_bytes(need)
                        )
                    } else {
                        format!(
                            "Needs about {} of RAM; on the CPU alone expect a slow reply \
                             (a word or two a second).",
                            format_bytes(need)
                        )
                    },
                ),
                (_, Some(ram)) => (
                    Fit::TooBig,
                    format!(
                        "Needs about {:.1} GiB; this machine can spare {:.1} GiB.",
                        need as f64 / GIB as f64,
                        (ram + vram) as f64 / GIB as f64
                    ),
                ),
                (_, None) => (
                    Fit::TooBig,
                    format!(
                        "Needs about {}; the machine's memory could not be read.",
                        format_bytes(need)
                    ),
                ),
            };
            Recommendation {
                label: class.label.to_owned(),
                examples: class.examples.iter().map(|e| (*e).to_owned()).collect(),
                download_bytes: class.weights_bytes(),
                memory_needed: need,
                fit,
                recommended: false,
                reason,
            }
        })
        .collect();
    let pick = out.iter().rposition(|r| r.fit == Fit::Gpu).or_else(|| {
        out.iter().enumerate().rev().find_map(|(i, r)| {
            (r.fit == Fit::Cpu && MODEL_CLASSES[i].params_b <= CPU_INTERACTIVE_MAX_PARAMS)
                .then_some(i)
        })
    });
    if let Some(i) = pick {
        out[i].recommended = true;
    }
    out
}

/// `1.4 GiB`, `512 MiB`, `900 KiB`: binary units, one decimal above 10.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(ram_gib: u64, gpu_gib: Option<u64>) -> Hardware {
        Hardware {
            os: "linux".into(),
            cpu_model: Some("Test CPU".into()),
            cpu_threads: 8,
            ram_total: Some(ram_gib * GIB),
            ram_available: Some(ram_gib * GIB / 2),
            gpus: gpu_gib
                .map(|g| Gpu {
                    name: "RTX Test".into(),
                    vendor: GpuVendor::Nvidia,
                    vram_total: Some(g * GIB),
                    vram_free: None,
                })
                .into_iter()
                .collect(),
            notes: vec![],
        }
    }

    fn fits(recs: &[Recommendation]) -> Vec<(&str, Fit)> {
        recs.iter().map(|r| (r.label.as_str(), r.fit)).collect()
    }

    fn recommended(recs: &[Recommendation]) -> Option<&str> {
        let picked: Vec<_> = recs.iter().filter(|r| r.recommended).collect();
        assert!(picked.len() <= 1, "at most one size is suggested");
        picked.first().map(|r| r.label.as_str())
    }

    #[test]
    fn meminfo_reads_total_and_available_in_bytes() {
        let text = "MemTotal:       32768000 kB\nMemFree:         1000000 kB\n\
                    MemAvailable:   20480000 kB\nBuffers:          100 kB\n";
        assert_eq!(
            parse_meminfo(text),
            Some((32_768_000 * 1024, 20_480_000 * 1024))
        );
    }

    #[test]
    fn meminfo_without_available_adds_free_buffers_and_cached() {
        let text = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n";
        assert_eq!(parse_meminfo(text), Some((1000 * 1024, 420 * 1024)));
        assert_eq!(parse_meminfo("MemFree: 3 kB\n"), None);
        assert_eq!(parse_meminfo("MemTotal: lots kB\n"), None);
        assert_eq!(parse_meminfo("MemTotal: 5 MB\nMemAvailable: 1 kB\n"), None);
    }

    #[test]
    fn cpuinfo_counts_processors_and_names_the_model() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\n\
                    model name\t: Intel(R) Core(TM)  i7-1185G7 @ 3.00GHz\n\n\
                    processor\t: 1\nmodel name\t: Intel(R) Core(TM)  i7-1185G7 @ 3.00GHz\n";
        assert_eq!(
            parse_cpuinfo(text),
            (Some("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz".into()), 2)
        );
        let arm = "processor : 0\nBogoMIPS : 108.00\nprocessor : 1\nHardware : BCM2835\n";
        assert_eq!(parse_cpuinfo(arm), (Some("BCM2835".into()), 2));
        assert_eq!(parse_cpuinfo(""), (None, 0));
    }

    #[test]
    fn nvidia_smi_csv_gives_cards_in_bytes_and_skips_noise() {
        let csv = "NVIDIA GeForce RTX 4090, 24564, 23000\n\
                   Failed to initialize NVML: Driver/library version mismatch\n\
                   Tesla T4, 15360, [N/A]\n";
        let gpus = parse_nvidia_smi(csv);
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].name, "NVIDIA GeForce RTX 4090");
        assert_eq!(gpus[0].vram_total, Some(24_564 * MIB));
        assert_eq!(gpus[0].vram_free, Some(23_000 * MIB));
        assert_eq!(gpus[1].vram_free, None);
        assert!(parse_nvidia_smi("").is_empty());
    }

    #[test]
    fn pci_vendor_ids_map_to_makers() {
        assert_eq!(GpuVendor::from_pci_id("0x10de\n"), GpuVendor::Nvidia);
        assert_eq!(GpuVendor::from_pci_id("0x1002"), GpuVendor::Amd);
        assert_eq!(GpuVendor::from_pci_id("0x8086"), GpuVendor::Intel);
        assert_eq!(GpuVendor::from_pci_id("0x1af4"), GpuVendor::Other);
        assert!(!GpuVendor::Intel.accelerates());
    }

    #[test]
    fn sysctl_and_apple_silicon_unified_memory() {
        let (mem, brand, threads) = parse_sysctl("34359738368\nApple M2 Pro\n12\n");
        assert_eq!(mem, Some(32 * GIB));
        assert_eq!(brand.as_deref(), Some("Apple M2 Pro"));
        assert_eq!(threads, Some(12));
        let gpu = apple_unified_gpu("Apple M2 Pro", 32 * GIB).expect("apple gpu");
        assert_eq!(gpu.vram_total, Some(32 * GIB / 3 * 2));
        assert_eq!(
            apple_unified_gpu("Apple M3 Max", 64 * GIB).and_then(|g| g.vram_total),
            Some(48 * GIB)
        );
        assert!(apple_unified_gpu("Intel(R) Core(TM) i9", 32 * GIB).is_none());
    }

    #[test]
    fn memory_need_grows_with_size_and_context() {
        let eight = MODEL_CLASSES[2];
        // 8B at Q4_K_M is a ~4.9 GB download, as Ollama's library lists.
        assert!((4_700_000_000..5_100_000_000).contains(&eight.weights_bytes()));
        let short = eight.memory_needed(2_048);
        let long = eight.memory_needed(32_768);
        assert_eq!(long - short, 30_720 * 128 * 1024);
        for pair in MODEL_CLASSES.windows(2) {
            assert!(pair[0].memory_needed(8192) < pair[1].memory_needed(8192));
        }
    }

    #[test]
    fn a_24_gib_gpu_suggests_the_largest_size_that_fits_on_it() {
        let recs = recommend(&machine(64, Some(24)), 8_192);
        assert_eq!(
            fits(&recs),
            vec![
                ("1B", Fit::Gpu),
                ("3-4B", Fit::Gpu),
                ("7-8B", Fit::Gpu),
                ("12-14B", Fit::Gpu),
                ("24-32B", Fit::Gpu),
                ("70B", Fit::Partial),
            ]
        );
        assert_eq!(recommended(&recs), Some("24-32B"));
        assert!(recs[4].reason.contains("RTX Test"), "{}", recs[4].reason);
        // A smaller card moves the suggestion down.
        let recs = recommend(&machine(64, Some(8)), 8_192);
        assert_eq!(recommended(&recs), Some("7-8B"));
        assert_eq!(recs[3].fit, Fit::Partial);
    }

    #[test]
    fn a_laptop_without_gpu_gets_a_small_cpu_model() {
        let recs = recommend(&machine(16, None), 8_192);
        assert_eq!(
            fits(&recs),
            vec![
                ("1B", Fit::Cpu),
                ("3-4B", Fit::Cpu),
                ("7-8B", Fit::Cpu),
                ("12-14B", Fit::Cpu),
                ("24-32B", Fit::TooBig),
                ("70B", Fit::TooBig),
            ]
        );
        assert_eq!(recommended(&recs), Some("7-8B"));
        assert!(recs[3].reason.contains("slow"), "{}", recs[3].reason);
        assert!(
            recs[5].reason.contains("can spare 13.0 GiB"),
            "{}",
            recs[5].reason
        );
    }

    #[test]
    fn a_big_ram_cpu_machine_never_suggests_a_slow_size() {
        let recs = recommend(&machine(256, None), 8_192);
        assert!(recs.iter().all(|r| r.fit == Fit::Cpu));
        assert_eq!(recommended(&recs), Some("7-8B"));
        assert!(recs[5].reason.contains("slow"));
    }

    #[test]
    fn a_tiny_machine_suggests_nothing_and_unknown_memory_is_said() {
        let recs = recommend(&machine(4, None), 8_192);
        assert_eq!(recommended(&recs), None);
        assert!(recs.iter().all(|r| r.fit == Fit::TooBig));
        let unknown = Hardware::default();
        let recs = recommend(&unknown, 8_192);
        assert_eq!(recommended(&recs), None);
        assert!(recs[0].reason.contains("could not be read"));
    }

    #[test]
    fn an_intel_igpu_is_not_counted_as_an_accelerator() {
        let mut hw = machine(16, None);
        hw.gpus.push(Gpu {
            name: "Intel Iris Xe".into(),
            vendor: GpuVendor::Intel,
            vram_total: Some(8 * GIB),
            vram_free: None,
        });
        assert!(hw.best_gpu().is_none());
        assert!(recommend(&hw, 8_192).iter().all(|r| r.fit != Fit::Gpu));
    }

    #[test]
    fn bytes_format_in_binary_units() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(24 * GIB), "24 GiB");
        assert_eq!(format_bytes(4_900_000_000), "4.6 GiB");
    }
}
