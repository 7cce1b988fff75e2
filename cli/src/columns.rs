//! Which CSV column is which customer field. The export writes [`EXPORTED`]; the import reads
//! those, common spellings of them (`E-mail`, `First Name`, `Company`, `Zip`), and the seed
//! system's customer columns (the API's own field names, plus `assigned_to`), ignoring the
//! columns that hold another system's ids or timestamps. `--map column=field` overrides.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::Failure;

/// Every column the export writes, in order: what an import reads back to the same customer.
pub const EXPORTED: [&str; 17] = [
    "email",
    "name",
    "first_name",
    "last_name",
    "phone",
    "customer_type",
    "status",
    "company_name",
    "code",
    "owner_id",
    "user_id",
    "tags",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
];

/// The address's fields, sent as one `address` object.
const ADDRESS: [&str; 5] = ["street", "city", "region", "postal_code", "country"];

/// Spellings of each field, compared with case, spaces and punctuation left out.
const ALIASES: [(&str, &[&str]); 17] = [
    ("email", &["email", "emailaddress", "mail"]),
    ("name", &["name", "fullname", "customername", "displayname"]),
    ("first_name", &["firstname", "givenname", "forename"]),
    ("last_name", &["lastname", "surname", "familyname"]),
    (
        "phone",
        &["phone", "phonenumber", "telephone", "tel", "mobile"],
    ),
    ("customer_type", &["customertype", "type"]),
    ("status", &["status"]),
    (
        "company_name",
        &["companyname", "company", "business", "employer"],
    ),
    ("code", &["code", "customercode"]),
    ("owner_id", &["ownerid", "owner"]),
    ("user_id", &["userid"]),
    ("tags", &["tags", "tag", "labels"]),
    (
        "street",
        &["street", "streetaddress", "address", "address1"],
    ),
    ("city", &["city", "town"]),
    ("region", &["region", "state", "province", "county"]),
    ("postal_code", &["postalcode", "postcode", "zip", "zipcode"]),
    ("country", &["country", "countrycode"]),
];

/// Columns of an export from another system (the seed's included) that name that system's
/// ids and times: meaningless here, left out unless mapped.
const IGNORED: [&str; 10] = [
    "id",
    "organization",
    "organizationid",
    "userprofile",
    "createdat",
    "updatedat",
    "version",
    "assignedto",
    "vendor",
    "createdby",
];

fn fold(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Each column's field (`None`: left out), and the columns left out, to say so.
pub struct Mapping {
    pub fields: Vec<Option<&'static str>>,
    pub ignored: Vec<String>,
}

/// `--map` entries: `column=field`, or `column=` to leave a column out.
pub fn parse_map(entries: &[String]) -> Result<BTreeMap<String, Option<&'static str>>, Failure> {
    entries
        .iter()
        .map(|entry| {
            let (column, field) = entry.split_once('=').ok_or_else(|| {
                Failure::msg(format!(
                    "--map {entry}: use COLUMN=FIELD, or COLUMN= to leave it out"
                ))
            })?;
            let field =
                match field.trim() {
                    "" | "-" => None,
                    field => Some(EXPORTED.iter().copied().find(|f| *f == field).ok_or_else(
                        || {
                            Failure::msg(format!(
                                "--map {entry}: {field} is not a customer field ({})",
                                EXPORTED.join(", ")
                            ))
                        },
                    )?),
                };
            Ok((fold(column), field))
        })
        .collect()
}

impl Mapping {
    pub fn of(
        headers: &[String],
        map: &BTreeMap<String, Option<&'static str>>,
    ) -> Result<Self, Failure> {
        let mut fields = Vec::new();
        let mut ignored = Vec::new();
        let mut unknown = Vec::new();
        for header in headers {
            let folded = fold(header);
            let field = match map.get(&folded) {
                Some(field) => *field,
                None => match ALIASES
                    .iter()
                    .find(|(_, names)| names.contains(&folded.as_str()))
                {
                    Some((field, _)) => Some(*field),
                    None if IGNORED.contains(&folded.as_str()) || folded.is_empty() => None,
                    None => {
                        unknown.push(header.clone());
                        None
                    }
                },
            };
            if field.is_none() {
                ignored.push(header.clone());
            }
            fields.push(field);
        }
        if !unknown.is_empty() {
            return Err(Failure::msg(format!(
                "columns not understood: {}; name their fields with --map COLUMN=FIELD, or leave them out with --map COLUMN=",
                unknown.join(", ")
            )));
        }
        for field in EXPORTED {
            let columns: Vec<&String> = headers
                .iter()
                .zip(&fields)
                .filter(|(_, f)| **f == Some(field))
                .map(|(h, _)| h)
                .collect();
            if columns.len() > 1 {
                let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
                return Err(Failure::msg(format!(
                    "columns {} are all {field}: leave all but one out with --map COLUMN=",
                    names.join(", ")
                )));
            }
        }
        if !fields.contains(&Some("email")) {
            return Err(Failure::msg(
                "no email column: customers are imported by email (--map COLUMN=email)",
            ));
        }
        Ok(Self { fields, ignored })
    }

    /// A row's fields as the API takes them; blank cells are left out.
    pub fn row(&self, record: &csv::StringRecord) -> Map<String, Value> {
        let mut row = Map::new();
        let mut address = Map::new();
        for (cell, field) in record.iter().zip(&self.fields) {
            let (Some(field), cell) = (field, cell.trim()) else {
                continue;
            };
            if cell.is_empty() {
                continue;
            }
            let value = match *field {
                "tags" => Value::Array(split_tags(cell).into_iter().map(Value::String).collect()),
                "status" | "customer_type" => Value::String(cell.to_lowercase()),
                "country" => Value::String(cell.to_uppercase()),
                _ => Value::String(cell.to_owned()),
            };
            match ADDRESS.contains(field) {
                true => address.insert((*field).to_owned(), value),
                false => row.insert((*field).to_owned(), value),
            };
        }
        if !address.is_empty() {
            row.insert("address".to_owned(), Value::Object(address));
        }
        row
    }
}

/// Tags are written as one field of their own CSV with `;` between them, so a tag holding a
/// `;` or a quote survives the round trip.
pub fn split_tags(cell: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(cell.as_bytes());
    reader
        .records()
        .flatten()
        .flat_map(|record| {
            record
                .iter()
                .map(|t| t.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

pub fn join_tags(tags: &[String]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    if writer.write_record(tags).is_err() {
        return tags.join(";");
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_owned()
}

/// A customer as the export's row, in [`EXPORTED`]'s order.
pub fn exported(customer: &Value) -> Vec<String> {
    EXPORTED
        .iter()
        .map(|field| {
            let value = match *field {
                f if ADDRESS.contains(&f) => &customer["address"][f],
                f => &customer[f],
            };
            match value {
                Value::String(text) => text.clone(),
                Value::Array(tags) => {
                    let tags: Vec<String> = tags
                        .iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect();
                    join_tags(&tags)
                }
                Value::Null => String::new(),
                other => other.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn common_spellings_and_the_seeds_columns_need_no_map() {
        let mapping = Mapping::of(
            &headers(&[
                "E-mail",
                "First Name",
                "Company",
                "Zip",
                "id",
                "assigned_to",
                "created_at",
            ]),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(
            mapping.fields,
            [
                Some("email"),
                Some("first_name"),
                Some("company_name"),
                Some("postal_code"),
                None,
                None,
                None
            ]
        );
        assert_eq!(mapping.ignored, ["id", "assigned_to", "created_at"]);
    }

    #[test]
    fn an_unknown_column_is_named_until_mapped() {
        let none = BTreeMap::new();
        let Err(Failure::Message(message)) = Mapping::of(&headers(&["email", "Shoe size"]), &none)
        else {
            panic!("refused");
        };
        assert!(message.contains("Shoe size"), "{message}");
        let map = parse_map(&["Shoe size=".to_owned(), "Mail=email".to_owned()]).unwrap();
        let mapping = Mapping::of(&headers(&["Mail", "Shoe size"]), &map).unwrap();
        assert_eq!(mapping.fields, [Some("email"), None]);
        assert!(parse_map(&["x=colour".to_owned()]).is_err());
    }

    #[test]
    fn tags_survive_the_round_trip_with_separators_inside() {
        let tags = vec![
            "a;b".to_owned(),
            "say \"hi\"".to_owned(),
            "plain".to_owned(),
        ];
        assert_eq!(split_tags(&join_tags(&tags)), tags);
        assert_eq!(split_tags("vip; wholesale ;"), ["vip", "wholesale"]);
    }
}
