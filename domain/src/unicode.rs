//! The Unicode rules identities and free text follow, on ICU4X (already in every binary
//! through the SDK's URL handling).
//!
//! - [`fold`]: NFKC, full case folding, NFKC again, the form uniqueness is decided on, so
//!   `ａｄｍｉｎ` (fullwidth) is `admin`, `straße` is `strasse` and `ﬁle` is `file`.
//! - [`is_single_script`]: UTS #39's test that a string's resolved script set is not empty,
//!   so that Cyrillic `а` cannot stand in for Latin `a` inside a Latin name.
//! - [`invisible`]: characters that change how text is shown without being seen (controls,
//!   format characters such as zero-width spaces and bidi overrides, line separators, and
//!   every Default_Ignorable_Code_Point: fillers, variation selectors, joiners).
//! - [`has_visible`]: whether text shows anything at all: a name of fillers, blank symbols or
//!   lone combining marks looks empty.
//! - [`skeleton`]: UTS #39's confusable skeleton, the same for text that looks the same
//!   (`coca` and Cyrillic `соса`).

use std::collections::BTreeSet;

use icu_casemap::CaseMapper;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory, Script};
use icu_properties::script::ScriptWithExtensions;
use icu_properties::{CodePointMapData, CodePointSetData};

use super::confusables;

/// NFKC(case fold(NFKC(text))): compatibility forms and case variants of one name meet.
pub fn fold(text: &str) -> String {
    let nfkc = ComposingNormalizerBorrowed::new_nfkc();
    let folded = CaseMapper::new()
        .fold_string(&nfkc.normalize(text))
        .into_owned();
    nfkc.normalize(&folded).into_owned()
}

/// The first character of `text` that is a control, format or line/paragraph separator, or
/// default-ignorable (shown as nothing: U+3164 HANGUL FILLER, U+034F, U+FE0F…).
pub fn invisible(text: &str) -> Option<char> {
    let categories = CodePointMapData::<GeneralCategory>::new();
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    text.chars().find(|c| {
        ignorable.contains(*c)
            || matches!(
                categories.get(*c),
                GeneralCategory::Control
                    | GeneralCategory::Format
                    | GeneralCategory::LineSeparator
                    | GeneralCategory::ParagraphSeparator
            )
    })
}

/// Whether `text` has a character that shows: not white space, not invisible, not a
/// combining mark (which shows only on another character), not U+2800 BRAILLE PATTERN
/// BLANK (a symbol drawn as nothing).
pub fn has_visible(text: &str) -> bool {
    let categories = CodePointMapData::<GeneralCategory>::new();
    text.chars().any(|c| {
        !c.is_whitespace()
            && c != '\u{2800}'
            && invisible(c.encode_utf8(&mut [0; 4])).is_none()
            && !matches!(
                categories.get(c),
                GeneralCategory::NonspacingMark
                    | GeneralCategory::SpacingMark
                    | GeneralCategory::EnclosingMark
            )
    })
}

/// UTS #39 §4: NFD, without default-ignorable characters, each character replaced by its
/// prototype from confusables.txt, NFD again. The table is generated from the
/// unicode-security crate, and a test holds it to that crate's own `skeleton` for every code
/// point; the normalizer is the ICU4X one every binary already has.
pub fn skeleton(text: &str) -> String {
    let nfd = DecomposingNormalizerBorrowed::new_nfd();
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let mut prototypes = String::with_capacity(text.len());
    for c in nfd
        .normalize(text)
        .chars()
        .filter(|c| !ignorable.contains(*c))
    {
        match confusables::prototype(c) {
            Some(prototype) => prototypes.push_str(prototype),
            None => prototypes.push(c),
        }
    }
    nfd.normalize(&prototypes).into_owned()
}

/// A member of an augmented script set: a script, or one of UTS #39's writing systems that
/// really mix scripts (Japanese: kanji with kana; Korean: hanja with hangul; Han with
/// Bopomofo).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Writing {
    Script(Script),
    Jpan,
    Kore,
    Hanb,
}

/// UTS #39 §5.1: every character's script extensions, augmented, intersected; Common and
/// Inherited characters (digits, `.`, combining marks) go with any script.
pub fn is_single_script(text: &str) -> bool {
    let scripts = ScriptWithExtensions::new();
    let mut resolved: Option<BTreeSet<Writing>> = None;
    for c in text.chars() {
        let extensions = scripts.get_script_extensions_val(c);
        if extensions
            .iter()
            .any(|s| s == Script::Common || s == Script::Inherited)
        {
            continue;
        }
        let mut set: BTreeSet<Writing> = extensions.iter().map(Writing::Script).collect();
        for script in extensions.iter() {
            let augmented: &[Writing] = match script {
                Script::Han => &[Writing::Jpan, Writing::Kore, Writing::Hanb],
                Script::Hiragana | Script::Katakana => &[Writing::Jpan],
                Script::Hangul => &[Writing::Kore],
                Script::Bopomofo => &[Writing::Hanb],
                _ => &[],
            };
            set.extend(augmented);
        }
        resolved = Some(match resolved {
            None => set,
            Some(before) => before.intersection(&set).copied().collect(),
        });
        if resolved.as_ref().is_some_and(BTreeSet::is_empty) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/confusables.rs");

    /// confusables.rs as the reference crate makes it: for every character that NFD keeps and
    /// that shows, its skeleton where that differs from itself.
    fn generated_table() -> String {
        let nfd = DecomposingNormalizerBorrowed::new_nfd();
        let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
        let (mut sources, mut ends, mut prototypes) = (vec![], vec![], String::new());
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let alone = c.to_string();
            if ignorable.contains(c) || nfd.normalize(&alone) != alone {
                continue;
            }
            let prototype: String = unicode_security::skeleton(&alone).collect();
            if prototype != alone {
                sources.push(format!("{:#x}", u32::from(c)));
                prototypes.push_str(&prototype);
                ends.push(prototypes.len().to_string());
            }
        }
        let escaped: String = prototypes
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_string(),
                _ => format!("\\u{{{:x}}}", u32::from(c)),
            })
            .collect();
        format!(
            "//! UTS #39 prototypes (Unicode {}.{}.{} confusables.txt), generated from the\n\
             //! unicode-security crate by `cargo test -p crm-domain --lib regenerate_confusables --\n\
             //! --ignored`: a character's prototype is `PROTOTYPES[ENDS[i - 1]..ENDS[i]]` where\n\
             //! `SOURCES[i]` is the character. {} characters.\n\n\
             #[rustfmt::skip]\nstatic SOURCES: [u32; {n}] = [{}];\n\
             #[rustfmt::skip]\nstatic ENDS: [u16; {n}] = [{}];\n\
             #[rustfmt::skip]\nstatic PROTOTYPES: &str = \"{}\";\n\n\
             /// The prototype of a character NFD keeps, if it is not its own.\n\
             pub(super) fn prototype(c: char) -> Option<&'static str> {{\n    \
             let i = SOURCES.binary_search(&u32::from(c)).ok()?;\n    \
             let start = if i == 0 {{ 0 }} else {{ ENDS[i - 1] }};\n    \
             Some(&PROTOTYPES[usize::from(start)..usize::from(ENDS[i])])\n}}\n",
            unicode_security::UNICODE_VERSION.0,
            unicode_security::UNICODE_VERSION.1,
            unicode_security::UNICODE_VERSION.2,
            sources.len(),
            sources.join(", "),
            ends.join(", "),
            escaped,
            n = sources.len(),
        )
    }

    #[test]
    #[ignore = "writes src/confusables.rs"]
    fn regenerate_confusables() {
        std::fs::write(TABLE, generated_table()).unwrap();
    }

    #[test]
    fn the_confusables_table_is_the_reference_crates() {
        let stored = std::fs::read_to_string(TABLE).unwrap();
        assert!(
            stored == generated_table(),
            "confusables.rs is stale: cargo test -p crm-domain --lib regenerate_confusables -- --ignored"
        );
    }

    /// Every code point alone, and text where NFD reorders marks across characters and drops
    /// ignorables, skeletonizes as the reference crate does.
    #[test]
    fn skeletons_are_the_reference_crates() {
        let reference = |text: &str| unicode_security::skeleton(text).collect::<String>();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(
                skeleton(&alone),
                reference(&alone),
                "U+{:04X}",
                u32::from(c)
            );
        }
        for text in [
            "соса",
            "ѕсоре",
            "οο",
            "rn\u{301}\u{323}m",
            "a\u{200b}b\u{fe0f}",
            "Ǆ\u{323}\u{301}",
            "ﬁle½",
        ] {
            assert_eq!(skeleton(text), reference(text), "{text}");
        }
        assert_eq!(skeleton("соса"), skeleton("coca"));
        assert_ne!(skeleton("coca"), skeleton("cola"));
    }

    #[test]
    fn look_alike_forms_fold_together() {
        assert_eq!(fold("ａｄｍｉｎ"), fold("admin"));
        assert_eq!(fold("straße"), fold("STRASSE"));
        assert_eq!(fold("ﬁle"), fold("file"));
        assert_eq!(fold("JaneDoe"), "janedoe");
        assert_eq!(fold("ΣΊΣΥΦΟΣ"), fold("σίσυφος"));
        assert_ne!(fold("jane"), fold("jame"));
    }

    #[test]
    fn one_script_per_name_with_the_mixes_real_writing_uses() {
        for ok in [
            "jane.doe_1",
            "Zoë",
            "Иван",
            "山田たろう",
            "김철수",
            "δ.ελτα",
            "x",
        ] {
            assert!(is_single_script(ok), "{ok}");
        }
        // Cyrillic а (U+0430) inside Latin, Greek ο inside Latin.
        for mixed in ["\u{430}dmin", "g\u{3bf}\u{3bf}gle", "paypаl"] {
            assert!(!is_single_script(mixed), "{mixed}");
        }
    }

    #[test]
    fn invisible_characters_are_found() {
        assert_eq!(invisible("\u{200b}\u{200b}"), Some('\u{200b}'));
        assert_eq!(invisible("\u{202e}gnp.exe"), Some('\u{202e}'));
        assert_eq!(invisible("a\u{2028}b"), Some('\u{2028}'));
        assert_eq!(invisible("a\tb"), Some('\t'));
        assert_eq!(invisible("Zoë O'Brien-Łukasz"), None);
    }
}
