//! Finding customers: the words a customer is found by, the words a search asks for, and
//! the order names sort in. Pure; the index entries built from these live in
//! `store/keys.rs`.
//!
//! Text is compared after [`search_fold`]: compatibility decomposition, combining marks
//! dropped, full case folding (`Müller` = `muller`, `ß` = `ss`, `ＡＣＭＥ` = `acme`), and split
//! into words at every character that is not a letter or a digit (`pat.lee@acme.io` is
//! `pat`, `lee`, `acme`, `io`). A search matches when every one of its words is a prefix of
//! some word of the customer.

use icu_casemap::CaseMapper;
use icu_normalizer::DecomposingNormalizerBorrowed;
use icu_properties::props::GeneralCategory;
use icu_properties::CodePointMapData;

use super::Customer;

/// How many distinct words of a customer are indexed: enough for any real name, email,
/// company, code and phone, and few enough that the transaction replacing every word and
/// every tag of a customer stays within DynamoDB's 100 items.
pub const MAX_INDEXED_WORDS: usize = 16;
/// A search's bounds: longer, or with more words, is refused.
pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_QUERY_WORDS: usize = 6;
/// The name's sort key is cut here (bytes, at a character boundary); DynamoDB allows 1 KB.
const MAX_NAME_KEY_BYTES: usize = 400;

/// NFKD, combining marks dropped, full case fold, and again (a fold can produce text that
/// decomposes): the form search compares in.
pub fn search_fold(text: &str) -> String {
    let once = unmarked(text);
    unmarked(&CaseMapper::new().fold_string(&once))
}

fn unmarked(text: &str) -> String {
    let nfkd = DecomposingNormalizerBorrowed::new_nfkd();
    let categories = CodePointMapData::<GeneralCategory>::new();
    nfkd.normalize(text)
        .chars()
        .filter(|c| {
            !matches!(
                categories.get(*c),
                GeneralCategory::NonspacingMark
                    | GeneralCategory::SpacingMark
                    | GeneralCategory::EnclosingMark
            )
        })
        .collect()
}

/// Whether `c` is a letter or a digit: a character of Unicode's general categories L
/// (Lu, Ll, Lt, Lm, Lo) or N (Nd, Nl, No), which is what a regular expression's `[^\W_]`
/// matches in Python (the schema's `q` pattern).
fn is_word_char(c: char) -> bool {
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
            | GeneralCategory::DecimalNumber
            | GeneralCategory::LetterNumber
            | GeneralCategory::OtherNumber
    )
}

/// What separates the runs of a search that are counted against its bound: white space,
/// controls and ASCII punctuation (the class `openapi.yaml`'s `q` pattern names, character
/// for character: U+0000-U+002F, U+003A-U+0040, U+005B-U+0060, U+007B-U+00A0, and the
/// other white space).
fn is_query_separator(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{2F}'
        | '\u{3A}'..='\u{40}'
        | '\u{5B}'..='\u{60}'
        | '\u{7B}'..='\u{A0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200A}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}')
}

fn split_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
}

/// The folded words of `text`, in order, repeats included.
pub fn words(text: &str) -> Vec<String> {
    split_words(&search_fold(text)).map(str::to_owned).collect()
}

/// A phone's words: its digits whole, and each group of digits as written.
fn phone_words(phone: &str) -> Vec<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    std::iter::once(digits)
        .chain(
            phone
                .split(|c: char| !c.is_ascii_digit())
                .filter(|g| !g.is_empty())
                .map(str::to_owned),
        )
        .collect()
}

impl Customer {
    /// The distinct words this customer is found by, at most [`MAX_INDEXED_WORDS`], from its
    /// name, first and last name, company, email, code and phone in that order.
    pub fn search_words(&self) -> Vec<String> {
        let texts = [
            Some(self.name.as_str()),
            self.first_name.as_ref().map(|n| n.as_str()),
            self.last_name.as_ref().map(|n| n.as_str()),
            self.company_name.as_ref().map(|n| n.as_str()),
            Some(self.email.as_str()),
            Some(self.code.as_str()),
        ];
        let mut found: Vec<String> = Vec::new();
        let phone = self.phone.as_ref().map(|p| phone_words(p.as_str()));
        let candidates = texts
            .into_iter()
            .flatten()
            .flat_map(words)
            .chain(phone.into_iter().flatten());
        for word in candidates {
            if found.len() == MAX_INDEXED_WORDS {
                break;
            }
            if !found.contains(&word) {
                found.push(word);
            }
        }
        found
    }

    /// Where the customer sorts by name: the folded words of its name, joined by `-`, which
    /// sorts below every letter and digit (so `ab` < `ab c` < `abc`), cut to a bounded size.
    pub fn name_key(&self) -> String {
        let mut key = words(self.name.as_str()).join("-");
        if key.len() > MAX_NAME_KEY_BYTES {
            let mut cut = MAX_NAME_KEY_BYTES;
            while !key.is_char_boundary(cut) {
                cut -= 1;
            }
            key.truncate(cut);
        }
        key
    }
}

/// A search that passed validation: one to [`MAX_QUERY_WORDS`] folded words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
}

impl SearchQuery {
    /// `Ok(None)` for a `q` with no word in it: as if absent. Its size is bounded as the
    /// schema can state it: at most 100 characters and 6 runs between separators
    /// ([`is_query_separator`]); the words searched for are then its folded letters and
    /// digits, which those bounds keep few.
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(format!("must be at most {MAX_QUERY_CHARS} characters"));
        }
        let runs = raw.split(is_query_separator).filter(|r| !r.is_empty());
        if runs.count() > MAX_QUERY_WORDS {
            return Err(format!(
                "must have at most {MAX_QUERY_WORDS} words (runs of characters other than \
                 white space, controls and ASCII punctuation)"
            ));
        }
        let mut found = words(raw);
        found.sort();
        found.dedup();
        // A word that is a prefix of another asks for nothing more than the longer one.
        let kept: Vec<String> = found
            .iter()
            .filter(|w| !found.iter().any(|o| o != *w && o.starts_with(w.as_str())))
            .cloned()
            .collect();
        Ok((!kept.is_empty()).then_some(Self { words: kept }))
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The word whose index range is read: the longest (likely the fewest matches), then
    /// the first in order.
    pub fn leading(&self) -> &str {
        self.words
            .iter()
            .max_by(|a, b| a.len().cmp(&b.len()).then(b.cmp(a)))
            .map_or("", String::as_str)
    }

    /// Whether every word of the search is a prefix of one of `words`.
    pub fn matches(&self, words: &[String]) -> bool {
        self.words
            .iter()
            .all(|q| words.iter().any(|w| w.starts_with(q.as_str())))
    }

    /// The canonical text of the search, for a cursor's fingerprint.
    pub fn canonical(&self) -> String {
        self.words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompanyName, CustomerName, Phone};

    #[test]
    fn case_width_and_accents_do_not_matter() {
        assert_eq!(words("Müller"), ["muller"]);
        assert_eq!(words("Straße"), ["strasse"]);
        assert_eq!(words("ＡＣＭＥ"), ["acme"]);
        assert_eq!(words("Ångström-Éclair"), ["angstrom", "eclair"]);
        assert_eq!(words("pat.lee@acme.io"), ["pat", "lee", "acme", "io"]);
        assert_eq!(words("ﬁle"), ["file"]);
    }

    #[test]
    fn a_customer_is_found_by_the_words_of_its_fields() {
        let mut customer = crate::sample_customer_form().to_customer();
        customer.name = CustomerName::parse("Jürgen Müller").unwrap();
        customer.company_name = Some(CompanyName::parse("ＡＣＭＥ GmbH").unwrap());
        customer.phone = Some(Phone::parse("+49 (30) 1234-567").unwrap());
        let words = customer.search_words();
        for expected in ["jurgen", "muller", "acme", "gmbh", "pat", "lee", "example"] {
            assert!(
                words.contains(&expected.to_owned()),
                "{expected}: {words:?}"
            );
        }
        for expected in ["49301234567", "49", "30", "1234", "567"] {
            assert!(
                words.contains(&expected.to_owned()),
                "{expected}: {words:?}"
            );
        }
        let q = |raw| SearchQuery::parse(raw).unwrap().unwrap();
        // Accents are dropped, not transliterated: ü is u, not ue.
        assert!(!q("MUELL").matches(&words));
        assert!(q("mull jur").matches(&words));
        assert!(q("müller acme").matches(&words));
        assert!(!q("muller zeta").matches(&words), "every word must match");
        assert!(q("4930").matches(&words));
    }

    #[test]
    fn words_are_distinct_and_bounded() {
        let mut customer = crate::sample_customer_form().to_customer();
        let many: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        customer.name = CustomerName::parse(&format!("a A {}", many.join(" "))).unwrap();
        let words = customer.search_words();
        assert_eq!(words.len(), MAX_INDEXED_WORDS);
        assert_eq!(&words[..2], ["a", "w0"]);
    }

    #[test]
    fn queries_are_bounded_and_may_be_empty() {
        assert_eq!(SearchQuery::parse(" ,.; ").unwrap(), None);
        assert!(SearchQuery::parse(&"x".repeat(101)).is_err());
        assert!(SearchQuery::parse("a b c d e f g").is_err());
        assert!(SearchQuery::parse("a.b-c@d e,f+g").is_err());
        assert!(SearchQuery::parse("a b c d e f").unwrap().is_some());
        let q = SearchQuery::parse("Lee le PAT").unwrap().unwrap();
        assert_eq!(q.words(), ["lee", "pat"]);
        assert_eq!(q.leading(), "lee");
    }

    #[test]
    fn names_sort_by_their_words() {
        let mut a = crate::sample_customer_form().to_customer();
        let mut key = |name: &str| {
            a.name = CustomerName::parse(name).unwrap();
            a.name_key()
        };
        let (ab, ab_c, abc) = (key("Ab"), key("ab  C"), key("ABC"));
        assert!(ab < ab_c && ab_c < abc, "{ab} {ab_c} {abc}");
        assert_eq!(key("Dr. Müller"), "dr-muller");
        assert!(key(&"é".repeat(255)).len() <= MAX_NAME_KEY_BYTES);
    }
}
