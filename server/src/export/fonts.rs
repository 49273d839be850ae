//! The fonts embedded in the binary for PDF export, and per-character
//! fallback between them.
//!
//! Noto Sans (Latin with accents, Greek, Cyrillic) in regular, bold and
//! italic, Noto Sans Mono for code, and WenQuanYi Micro Hei (Droid Sans
//! Fallback plus Hangul) for Chinese, Japanese and Korean. The files are committed under `server/assets/fonts/` with their
//! licenses (SIL OFL 1.1 and Apache 2.0). krilla embeds only the glyphs a
//! document uses, so a PDF carries kilobytes of font, not megabytes.

use std::sync::OnceLock;

use tftsr_core::doc::{ExportError, ExportErrorKind};

static NOTO_REGULAR: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
static NOTO_BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");
static NOTO_ITALIC: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Italic.ttf");
static NOTO_MONO: &[u8] = include_bytes!("../../assets/fonts/NotoSansMono-Regular.ttf");
static WQY_MICROHEI: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei.ttc");

/// Which of the embedded faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FaceId {
    Regular = 0,
    Bold = 1,
    Italic = 2,
    Mono = 3,
    Cjk = 4,
}

pub(crate) struct Face {
    pub(crate) pdf: krilla::text::Font,
    ttf: ttf_parser::Face<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(name: &str, data: &'static [u8]) -> Result<Self, String> {
        let ttf = ttf_parser::Face::parse(data, 0).map_err(|e| format!("{name}: {e}"))?;
        let pdf = krilla::text::Font::new(krilla::Data::from(data), 0)
            .ok_or_else(|| format!("{name}: krilla cannot read it"))?;
        let units_per_em = f32::from(ttf.units_per_em().max(1));
        Ok(Self {
            pdf,
            ttf,
            units_per_em,
        })
    }

    pub(crate) fn has(&self, c: char) -> bool {
        self.ttf.glyph_index(c).is_some()
    }

    /// The advance of `c` in ems (0 when the face lacks it).
    pub(crate) fn advance(&self, c: char) -> f32 {
        self.ttf
            .glyph_index(c)
            .and_then(|g| self.ttf.glyph_hor_advance(g))
            .map_or(0.0, |a| f32::from(a) / self.units_per_em)
    }
}

pub(crate) struct Fonts {
    faces: [Face; 5],
}

static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();

impl Fonts {
    /// The embedded fonts, parsed once per process.
    pub(crate) fn get() -> Result<&'static Fonts, ExportError> {
        FONTS
            .get_or_init(|| {
                Ok(Fonts {
                    faces: [
                        Face::load("NotoSans-Regular", NOTO_REGULAR)?,
                        Face::load("NotoSans-Bold", NOTO_BOLD)?,
                        Face::load("NotoSans-Italic", NOTO_ITALIC)?,
                        Face::load("NotoSansMono-Regular", NOTO_MONO)?,
                        Face::load("wqy-microhei", WQY_MICROHEI)?,
                    ],
                })
            })
            .as_ref()
            .map_err(|e| {
                tracing::error!(error = %e, "embedded font unreadable");
                ExportError::new(ExportErrorKind::Font, "an embedded font could not be read")
            })
    }

    pub(crate) fn face(&self, id: FaceId) -> &Face {
        &self.faces[id as usize]
    }

    /// The face that draws `c` for text styled `wanted`: that face when it
    /// has the glyph, else the CJK fallback, else regular (whose missing
    /// glyph box is at least visible).
    pub(crate) fn resolve(&self, wanted: FaceId, c: char) -> FaceId {
        if c.is_whitespace() || self.face(wanted).has(c) {
            wanted
        } else if self.face(FaceId::Cjk).has(c) {
            FaceId::Cjk
        } else if self.face(FaceId::Regular).has(c) {
            FaceId::Regular
        } else {
            wanted
        }
    }

    /// The width of `text` in points at `size`, with fallback.
    pub(crate) fn width(&self, wanted: FaceId, size: f32, text: &str) -> f32 {
        text.chars()
            .map(|c| self.face(self.resolve(wanted, c)).advance(c))
            .sum::<f32>()
            * size
    }
}

/// Whether a line may break before and after `c` (CJK ideographs, kana,
/// Hangul and their punctuation are set without spaces).
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x2E80..=0x303F
        | 0x3040..=0x30FF
        | 0x3100..=0x31FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF
        | 0xFF00..=0xFFEF
        | 0x20000..=0x2FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_load_and_fall_back_for_cjk() {
        let fonts = Fonts::get().expect("fonts");
        assert_eq!(fonts.resolve(FaceId::Regular, 'é'), FaceId::Regular);
        assert_eq!(fonts.resolve(FaceId::Bold, 'Ω'), FaceId::Bold);
        assert_eq!(fonts.resolve(FaceId::Regular, 'Ж'), FaceId::Regular);
        for c in ['東', '京', '서', '울', '日', 'の'] {
            assert_eq!(fonts.resolve(FaceId::Regular, c), FaceId::Cjk, "{c}");
        }
        assert!(
            fonts.width(FaceId::Regular, 10.0, "WWW") > fonts.width(FaceId::Regular, 10.0, "iii")
        );
        assert!(fonts.width(FaceId::Mono, 10.0, "東京") > 0.0);
    }
}
