//! Reads fields out of a JSON object, collecting one message per bad field, so a client
//! learns everything wrong with its request at once. The API reads bodies and query strings
//! with it; the `crm` tool checks a file's rows with the same parsers before sending them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Field name to what is wrong with it, in a stable order.
pub type FieldErrors = BTreeMap<String, String>;

pub struct Form {
    object: Map<String, Value>,
    errors: FieldErrors,
    /// Bodies: a blank string counts as absent. Query strings: it is a value like any other.
    blank_is_absent: bool,
}

impl Form {
    /// A JSON body's fields.
    pub fn new(object: Map<String, Value>) -> Self {
        Self {
            object,
            errors: FieldErrors::new(),
            blank_is_absent: true,
        }
    }

    /// A query string's parameters, read like a body's fields except that a blank value is
    /// a value like any other.
    pub fn parameters(object: Map<String, Value>) -> Self {
        Self {
            object,
            errors: FieldErrors::new(),
            blank_is_absent: false,
        }
    }

    /// Whether the field was sent at all.
    pub fn has(&self, name: &str) -> bool {
        self.object.contains_key(name)
    }

    /// A string field that must be present and not blank, parsed into `T`.
    pub fn required<T, E: ToString>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let raw = self.raw(name)?;
        self.parse(name, &raw, parse)
    }

    /// A string field that may be absent or null; blank counts as absent.
    pub fn optional<T, E: ToString>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match self.text(name) {
            Ok(Some(raw)) => self.parse(name, &raw, parse),
            _ => None,
        }
    }

    /// For partial updates of a field that may be empty: absent is `None` (unchanged), null
    /// or blank is `Some(None)` (cleared), a value is `Some(Some(parsed))`.
    pub fn nullable<T, E: ToString>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        if !self.object.contains_key(name) {
            return None;
        }
        match self.text(name) {
            Ok(Some(raw)) => self.parse(name, &raw, parse).map(Some),
            Ok(None) => Some(None),
            Err(()) => None,
        }
    }

    /// For partial updates of a field that cannot be empty: absent is `None` (unchanged),
    /// null or blank is refused.
    pub fn settable<T, E: ToString>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        if !self.object.contains_key(name) {
            return None;
        }
        self.required(name, parse)
    }

    /// A field of any JSON type, null included, parsed from its value; absent is `None`.
    pub fn value<T, E: ToString>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, E>,
    ) -> Option<T> {
        let parsed = parse(self.object.get(name)?);
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                self.reject(name, e.to_string());
                None
            }
        }
    }

    /// Refuses every field not in `known`, so that a misspelt field is not silently ignored.
    pub fn only(&mut self, known: &[&str]) {
        let unknown: Vec<String> = self
            .object
            .keys()
            .filter(|name| !known.contains(&name.as_str()))
            .cloned()
            .collect();
        for name in unknown {
            self.reject(&name, "is not a field of this request");
        }
    }

    /// The raw string, for fields checked against others (the password).
    pub fn raw(&mut self, name: &str) -> Option<String> {
        match self.text(name) {
            Ok(Some(raw)) => Some(raw),
            Ok(None) => {
                let present = !matches!(self.object.get(name), None | Some(Value::Null));
                self.reject(
                    name,
                    if present {
                        "must not be blank"
                    } else {
                        "is required"
                    },
                );
                None
            }
            Err(()) => None,
        }
    }

    pub fn reject(&mut self, name: &str, message: impl Into<String>) {
        self.errors
            .entry(name.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// What was wrong, field by field.
    pub fn into_errors(self) -> FieldErrors {
        self.errors
    }

    /// `value` when every field read well, else what is wrong with each bad one.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, FieldErrors> {
        match value {
            Some(value) if !self.has_errors() => Ok(value),
            _ => Err(self.into_errors()),
        }
    }

    /// `Ok(None)` for absent, null or blank; `Err` (already recorded) for a wrong type.
    fn text(&mut self, name: &str) -> Result<Option<String>, ()> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if self.blank_is_absent && s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => {
                self.reject(name, "must be a string");
                Err(())
            }
        }
    }

    fn parse<T, E: ToString>(
        &mut self,
        name: &str,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(raw) {
            Ok(value) => Some(value),
            Err(e) => {
                self.reject(name, e.to_string());
                None
            }
        }
    }
}
