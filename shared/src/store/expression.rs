//! Condition and update expressions, built from typed parts. No expression text, attribute
//! placeholder or value placeholder is written by hand outside this module: a part names an
//! attribute (or a path into a map) and carries its value, and [`Placeholders`] renders the
//! parts of one action together, allocating `#n0`, `:v0`, … as it goes. Two conditions
//! joined with [`Condition::and`], or an update and its condition, therefore never collide.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::PK;
use super::transaction::Item;

/// An attribute, or a path into a map attribute (`organization.name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path(Vec<String>);

impl Path {
    pub fn of(parts: &[&str]) -> Self {
        Self(parts.iter().map(|part| (*part).to_owned()).collect())
    }
}

impl From<&str> for Path {
    fn from(attribute: &str) -> Self {
        Self(vec![attribute.to_owned()])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Equal,
    NotEqual,
    Less,
    AtMost,
    Greater,
    AtLeast,
}

impl Compare {
    fn operator(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "<>",
            Self::Less => "<",
            Self::AtMost => "<=",
            Self::Greater => ">",
            Self::AtLeast => ">=",
        }
    }
}

/// A condition on the item an action names.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Exists(Path),
    Absent(Path),
    Compare(Path, Compare, AttributeValue),
    All(Vec<Condition>),
    Any(Vec<Condition>),
}

impl Condition {
    /// The item exists (its partition key does).
    pub fn item_exists() -> Self {
        Self::Exists(PK.into())
    }

    /// No item stands at the key.
    pub fn item_absent() -> Self {
        Self::Absent(PK.into())
    }

    pub fn exists(path: impl Into<Path>) -> Self {
        Self::Exists(path.into())
    }

    pub fn absent(path: impl Into<Path>) -> Self {
        Self::Absent(path.into())
    }

    /// `path` equals `value`.
    pub fn equals(path: impl Into<Path>, value: AttributeValue) -> Self {
        Self::Compare(path.into(), Compare::Equal, value)
    }

    /// `path` is absent or holds another value than `value`.
    pub fn differs(path: impl Into<Path>, value: AttributeValue) -> Self {
        let path = path.into();
        Self::Absent(path.clone()).or(Self::Compare(path, Compare::NotEqual, value))
    }

    pub fn compare(path: impl Into<Path>, compare: Compare, value: AttributeValue) -> Self {
        Self::Compare(path.into(), compare, value)
    }

    /// Both hold.
    pub fn and(self, other: Self) -> Self {
        match self {
            Self::All(mut all) => {
                all.push(other);
                Self::All(all)
            }
            first => Self::All(vec![first, other]),
        }
    }

    /// Either holds.
    pub fn or(self, other: Self) -> Self {
        match self {
            Self::Any(mut any) => {
                any.push(other);
                Self::Any(any)
            }
            first => Self::Any(vec![first, other]),
        }
    }
}

/// What a `SET` gives an attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Value(AttributeValue),
    /// The attribute's own value, or `default` when it has none.
    OrElse(Path, AttributeValue),
    /// An operand plus a number.
    Plus(Box<Operand>, AttributeValue),
    /// An operand minus a number.
    Minus(Box<Operand>, AttributeValue),
}

/// An update expression: its `SET`, `REMOVE` and `ADD` clauses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    set: Vec<(Path, Operand)>,
    remove: Vec<Path>,
    add: Vec<(Path, AttributeValue)>,
}

impl Update {
    pub fn new() -> Self {
        Self::default()
    }

    /// `SET path = value`.
    pub fn set(self, path: impl Into<Path>, value: AttributeValue) -> Self {
        self.set_to(path, Operand::Value(value))
    }

    /// `SET path = operand`.
    pub fn set_to(mut self, path: impl Into<Path>, operand: Operand) -> Self {
        self.set.push((path.into(), operand));
        self
    }

    /// `REMOVE path`.
    pub fn remove(mut self, path: impl Into<Path>) -> Self {
        self.remove.push(path.into());
        self
    }

    /// `ADD path value`: a number added to (or starting) the attribute.
    pub fn add(mut self, path: impl Into<Path>, value: AttributeValue) -> Self {
        self.add.push((path.into(), value));
        self
    }
}

/// The placeholders of one action, allocated as its expressions are rendered: one name
/// placeholder per attribute, one value placeholder per value.
#[derive(Debug, Default)]
pub struct Placeholders {
    names: HashMap<String, String>,
    values: Item,
}

impl Placeholders {
    fn name(&mut self, attribute: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, a)| *a == attribute) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    fn path(&mut self, path: &Path) -> String {
        let parts: Vec<String> = path.0.iter().map(|part| self.name(part)).collect();
        parts.join(".")
    }

    fn value(&mut self, value: &AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value.clone());
        placeholder
    }

    /// The condition's text.
    pub fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::Exists(path) => format!("attribute_exists({})", self.path(path)),
            Condition::Absent(path) => format!("attribute_not_exists({})", self.path(path)),
            Condition::Compare(path, compare, value) => {
                let path = self.path(path);
                format!("{path} {} {}", compare.operator(), self.value(value))
            }
            Condition::All(all) => self.joined(all, " AND "),
            Condition::Any(any) => self.joined(any, " OR "),
        }
    }

    fn joined(&mut self, conditions: &[Condition], with: &str) -> String {
        let parts: Vec<String> = conditions
            .iter()
            .map(|c| format!("({})", self.condition(c)))
            .collect();
        parts.join(with)
    }

    /// The update's text.
    pub fn update(&mut self, update: &Update) -> String {
        let mut clauses = Vec::new();
        if !update.set.is_empty() {
            let sets: Vec<String> = update
                .set
                .iter()
                .map(|(path, operand)| format!("{} = {}", self.path(path), self.operand(operand)))
                .collect();
            clauses.push(format!("SET {}", sets.join(", ")));
        }
        if !update.remove.is_empty() {
            let removed: Vec<String> = update.remove.iter().map(|p| self.path(p)).collect();
            clauses.push(format!("REMOVE {}", removed.join(", ")));
        }
        if !update.add.is_empty() {
            let added: Vec<String> = update
                .add
                .iter()
                .map(|(path, value)| format!("{} {}", self.path(path), self.value(value)))
                .collect();
            clauses.push(format!("ADD {}", added.join(", ")));
        }
        clauses.join(" ")
    }

    fn operand(&mut self, operand: &Operand) -> String {
        match operand {
            Operand::Value(value) => self.value(value),
            Operand::OrElse(path, default) => {
                let path = self.path(path);
                format!("if_not_exists({path}, {})", self.value(default))
            }
            Operand::Plus(operand, n) => format!("{} + {}", self.operand(operand), self.value(n)),
            Operand::Minus(operand, n) => {
                format!("{} - {}", self.operand(operand), self.value(n))
            }
        }
    }

    /// The names and values, each `None` when empty: DynamoDB refuses an empty map.
    pub fn into_maps(self) -> (Option<HashMap<String, String>>, Option<Item>) {
        let names = Some(self.names).filter(|n| !n.is_empty());
        let values = Some(self.values).filter(|v| !v.is_empty());
        (names, values)
    }
}

/// A single `UpdateItem` with `update`, applied when `condition` (if any) holds.
pub fn update_item(
    call: UpdateItemFluentBuilder,
    update: &Update,
    condition: Option<&Condition>,
) -> UpdateItemFluentBuilder {
    let mut placeholders = Placeholders::default();
    let call = call.update_expression(placeholders.update(update));
    let call = match condition {
        Some(condition) => call.condition_expression(placeholders.condition(condition)),
        None => call,
    };
    let (names, values) = placeholders.into_maps();
    call.set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
}

/// A single `PutItem`, applied when `condition` holds.
pub fn put_item(call: PutItemFluentBuilder, condition: &Condition) -> PutItemFluentBuilder {
    let mut placeholders = Placeholders::default();
    let call = call.condition_expression(placeholders.condition(condition));
    let (names, values) = placeholders.into_maps();
    call.set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(value: u64) -> AttributeValue {
        AttributeValue::N(value.to_string())
    }

    #[test]
    fn conditions_joined_never_share_a_value_placeholder_and_names_are_shared() {
        let pending =
            Condition::item_exists().and(Condition::compare("expires_at", Compare::Greater, n(5)));
        let ours = Condition::equals("id", AttributeValue::S("a".into())).and(Condition::equals(
            Path::of(&["organization", "name"]),
            AttributeValue::S("Acme".into()),
        ));
        let mut placeholders = Placeholders::default();
        let text = placeholders.condition(&pending.or(ours));
        assert_eq!(
            text,
            "((attribute_exists(#n0)) AND (#n1 > :v0)) OR ((#n2 = :v1) AND (#n3.#n4 = :v2))"
        );
        let (names, values) = placeholders.into_maps();
        assert_eq!(names.unwrap()["#n3"], "organization");
        assert_eq!(values.unwrap().len(), 3);
    }

    #[test]
    fn an_update_and_its_condition_render_together() {
        let count = Operand::OrElse("owners".into(), n(1));
        let update = Update::new()
            .set_to("owners", Operand::Minus(Box::new(count), n(1)))
            .remove("open")
            .add("count", n(1));
        let mut placeholders = Placeholders::default();
        let text = placeholders.update(&update);
        let condition =
            placeholders.condition(&Condition::compare("owners", Compare::Greater, n(1)));
        assert_eq!(
            text,
            "SET #n0 = if_not_exists(#n0, :v0) - :v1 REMOVE #n1 ADD #n2 :v2"
        );
        assert_eq!(condition, "#n0 > :v3");
        let (_, values) = placeholders.into_maps();
        assert_eq!(values.unwrap().len(), 4);
    }

    #[test]
    fn a_condition_without_values_sends_no_empty_map() {
        let mut placeholders = Placeholders::default();
        assert_eq!(
            placeholders.condition(&Condition::item_absent()),
            "attribute_not_exists(#n0)"
        );
        let (names, values) = placeholders.into_maps();
        assert!(names.is_some() && values.is_none());
    }
}
