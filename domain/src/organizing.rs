//! What a team organizes its customers by: tags and a postal address. (The owner is a
//! `UserId`; the status is `CustomerStatus`.)

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::text::Text;
use super::unicode;

/// At most this many tags on a customer.
pub const MAX_TAGS: usize = 20;

/// A label: 1 to 40 visible characters, kept in the case first given, compared
/// case-insensitively (by [`Tag::folded`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tag(Text<40>);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Text::<40>::parse(raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// What two tags are compared by: NFKC case fold, as usernames are.
    pub fn folded(&self) -> String {
        unicode::fold(self.as_str())
    }

    /// A customer's tags from a JSON array of strings (null: none): each valid, at most
    /// [`MAX_TAGS`], repeats (case-insensitively) dropped, the first spelling kept.
    pub fn parse_list(value: &Value) -> Result<Vec<Self>, String> {
        let raw = match value {
            Value::Null => return Ok(Vec::new()),
            Value::Array(raw) => raw,
            _ => return Err("must be an array of strings".into()),
        };
        if raw.len() > MAX_TAGS {
            return Err(format!("must have at most {MAX_TAGS} tags"));
        }
        let mut tags: Vec<Self> = Vec::new();
        for (i, item) in raw.iter().enumerate() {
            let Value::String(text) = item else {
                return Err(format!("item {i} must be a string"));
            };
            let tag = Self::parse(text).map_err(|e| format!("item {i} {e}"))?;
            if !tags.iter().any(|t| t.folded() == tag.folded()) {
                tags.push(tag);
            }
        }
        Ok(tags)
    }
}

pub type AddressLine = Text<200>;

/// A postal address, every part optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub street: Option<AddressLine>,
    #[serde(default)]
    pub city: Option<AddressLine>,
    #[serde(default)]
    pub region: Option<AddressLine>,
    #[serde(default)]
    pub postal_code: Option<Text<20>>,
    #[serde(default)]
    pub country: Option<Country>,
}

impl Address {
    /// From a JSON object whose members are strings or null; null, or an object of nulls,
    /// is the empty address. Unknown members are refused, naming the member.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let object = match value {
            Value::Null => return Ok(Self::default()),
            Value::Object(object) => object,
            _ => return Err("must be an object".into()),
        };
        let mut address = Self::default();
        for (name, value) in object {
            let text = match value {
                Value::Null => continue,
                Value::String(s) if s.trim().is_empty() => continue,
                Value::String(s) => s.as_str(),
                _ => return Err(format!("{name} must be a string")),
            };
            let named = |e: String| format!("{name} {e}");
            match name.as_str() {
                "street" => address.street = Some(Text::parse(text).map_err(named)?),
                "city" => address.city = Some(Text::parse(text).map_err(named)?),
                "region" => address.region = Some(Text::parse(text).map_err(named)?),
                "postal_code" => address.postal_code = Some(Text::parse(text).map_err(named)?),
                "country" => {
                    address.country = Some(Country::parse(text).map_err(|e| named(e.into()))?);
                }
                _ => return Err(format!("{name} is not a part of an address")),
            }
        }
        Ok(address)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Country(String);

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted (ISO 3166 Maintenance
/// Agency; `XK` and other user-assigned codes are not among them).
const COUNTRIES: &str =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL \
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ \
DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS \
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR \
KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU \
MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH \
TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

impl Country {
    /// Exactly as ISO writes it: two capital letters.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.len() == 2 && COUNTRIES.split(' ').any(|c| c == raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be an ISO 3166-1 alpha-2 country code in capitals, such as \"DE\"")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_country_list_is_the_assigned_codes() {
        let codes: Vec<&str> = COUNTRIES.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert_eq!(Country::parse("DE").unwrap().as_str(), "DE");
        for bad in ["XK", "UK", "D", "DEU", "", "zz", "de", " DE"] {
            assert!(Country::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_keep_the_first_spelling_and_drop_repeats() {
        let tags = Tag::parse_list(&json!(["VIP", "vip", " Lead ", "ＶＩＰ"])).unwrap();
        let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(names, ["VIP", "Lead"]);
        assert!(Tag::parse_list(&json!(["x".repeat(41)])).is_err());
        assert!(Tag::parse_list(&json!([""])).is_err());
        assert!(Tag::parse_list(&json!("vip")).is_err());
        assert_eq!(Tag::parse_list(&json!(null)).unwrap(), []);
        assert!(Tag::parse_list(&json!([1])).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tag::parse_list(&json!(many)).is_err());
        assert_eq!(Tag::parse_list(&json!([])).unwrap(), []);
    }

    #[test]
    fn addresses_take_known_parts_only() {
        let address =
            Address::parse(&json!({"city": "Köln", "country": "DE", "street": null})).unwrap();
        assert_eq!(address.city.unwrap().as_str(), "Köln");
        assert_eq!(address.country.unwrap().as_str(), "DE");
        assert_eq!(Address::parse(&json!(null)).unwrap(), Address::default());
        let err = Address::parse(&json!({"country": "Germany"})).unwrap_err();
        assert!(err.starts_with("country "), "{err}");
        assert!(Address::parse(&json!({"planet": "Mars"})).is_err());
        assert!(Address::parse(&json!({"city": 5})).is_err());
        assert!(Address::parse(&json!("Köln")).is_err());
    }
}
