//! What a list of customers asks for (a search, filters, an order), whether a customer
//! matches it, and which index a page of it is read from. Pure.

use super::{sha256_hex, Customer, CustomerStatus, CustomerType, SearchQuery, Tag, UserId};

/// The orders an organization's customers are kept in, each in its own list of rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomerOrder {
    /// By id: UUIDv7 ids rise with time.
    Created,
    /// By the folded words of the name, then id.
    Name,
    /// By `updated_at`, then id.
    Updated,
}

impl CustomerOrder {
    pub const ALL: [Self; 3] = [Self::Created, Self::Name, Self::Updated];
}

/// `sort`: an order and a direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub order: CustomerOrder,
    pub descending: bool,
}

impl Default for Sort {
    /// Newest first.
    fn default() -> Self {
        Self {
            order: CustomerOrder::Created,
            descending: true,
        }
    }
}

impl Sort {
    pub const VALUES: [&'static str; 6] = [
        "-created", "created", "name", "-name", "updated", "-updated",
    ];

    pub fn parse(raw: &str) -> Result<Self, String> {
        let (descending, field) = match raw.strip_prefix('-') {
            Some(field) => (true, field),
            None => (false, raw),
        };
        let order = match field {
            "created" => CustomerOrder::Created,
            "name" => CustomerOrder::Name,
            "updated" => CustomerOrder::Updated,
            _ => return Err(format!("must be one of {}", Self::VALUES.join(", "))),
        };
        Ok(Self { order, descending })
    }

    fn as_str(self) -> String {
        let field = match self.order {
            CustomerOrder::Created => "created",
            CustomerOrder::Name => "name",
            CustomerOrder::Updated => "updated",
        };
        format!("{}{field}", if self.descending { "-" } else { "" })
    }
}

/// One value of one filter: each customer is listed under exactly one status, one type and
/// one owner (or none), and under each of its tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Facet {
    Status(CustomerStatus),
    Type(CustomerType),
    Owner(Option<UserId>),
    /// A tag's fold.
    Tag(String),
}

impl Customer {
    /// Every filter value this customer is listed under.
    pub fn facets(&self) -> Vec<Facet> {
        let mut facets = vec![
            Facet::Status(self.status),
            Facet::Type(self.customer_type),
            Facet::Owner(self.owner_id),
        ];
        facets.extend(self.tags.iter().map(|tag| Facet::Tag(tag.folded())));
        facets
    }
}

/// Where a page of a query is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Driver {
    /// The list of rows in this order (each row the whole customer).
    Rows(Sort),
    /// The customers under one filter value, by id (newest first when descending).
    Facet(Facet, bool),
    /// The words that begin with this prefix, in word order.
    Words(String),
}

/// `GET /api/customers`' search, filters and order, all combined by AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerQuery {
    pub q: Option<SearchQuery>,
    pub status: Option<CustomerStatus>,
    pub customer_type: Option<CustomerType>,
    /// `Some(None)`: unassigned customers.
    pub owner: Option<Option<UserId>>,
    pub tag: Option<Tag>,
    pub sort: Sort,
}

impl CustomerQuery {
    /// The filters other than the search, as facets, most selective first: an owner, a tag,
    /// a status, a type.
    fn facets(&self) -> Vec<Facet> {
        [
            self.owner.map(Facet::Owner),
            self.tag.as_ref().map(|t| Facet::Tag(t.folded())),
            self.status.map(Facet::Status),
            self.customer_type.map(Facet::Type),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Whether `customer` matches every part of the query (wherever it was read from).
    pub fn matches(&self, customer: &Customer) -> bool {
        let facets = customer.facets();
        self.facets().iter().all(|f| facets.contains(f))
            && self
                .q
                .as_ref()
                .is_none_or(|q| q.matches(&customer.search_words()))
    }

    /// The index a page is read from: the search's leading word; else, in creation order,
    /// the most selective filter; else the rows in the order asked for.
    pub fn driver(&self) -> Driver {
        if let Some(q) = &self.q {
            return Driver::Words(q.leading().to_owned());
        }
        match (self.sort.order, self.facets().into_iter().next()) {
            (CustomerOrder::Created, Some(facet)) => Driver::Facet(facet, self.sort.descending),
            _ => Driver::Rows(self.sort),
        }
    }

    /// Whether the driver alone decides what matches, so that a page reads only one entry
    /// more than it shows. A one-word search does: a customer with two words under the
    /// prefix has two entries, and the second only makes a page shorter.
    pub fn driver_decides(&self) -> bool {
        match self.driver() {
            Driver::Rows(_) => self.facets().is_empty(),
            Driver::Facet(..) => self.facets().len() == 1,
            Driver::Words(_) => {
                self.facets().is_empty() && self.q.as_ref().is_some_and(|q| q.words().len() == 1)
            }
        }
    }

    /// Whether `customer`, read from the index entry under `word`, is shown there: it matches
    /// the whole query and, under a search, `word` is the first of its words (in order)
    /// that begins with the leading word, so a customer is shown once. Its words are folded
    /// once for both.
    pub fn shows(&self, customer: &Customer, word: &str) -> bool {
        let facets = customer.facets();
        if !self.facets().iter().all(|f| facets.contains(f)) {
            return false;
        }
        let Some(q) = &self.q else {
            return true;
        };
        let words = customer.search_words();
        let leading = q.leading();
        q.matches(&words)
            && words
                .iter()
                .filter(|w| w.starts_with(leading))
                .min()
                .is_some_and(|first| first == word)
    }

    /// A digest of the whole query, which a cursor carries: a cursor of one query is refused
    /// by another.
    pub fn fingerprint(&self) -> String {
        let text = format!(
            "q={}&status={}&type={}&owner={}&tag={}&sort={}",
            self.q
                .as_ref()
                .map(SearchQuery::canonical)
                .unwrap_or_default(),
            self.status.map(CustomerStatus::as_str).unwrap_or_default(),
            self.customer_type
                .map(CustomerType::as_str)
                .unwrap_or_default(),
            match self.owner {
                None => String::new(),
                Some(None) => "none".into(),
                Some(Some(user)) => user.to_string(),
            },
            self.tag.as_ref().map(Tag::folded).unwrap_or_default(),
            self.sort.as_str(),
        );
        sha256_hex(text.as_bytes())[..16].to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer() -> Customer {
        crate::sample_customer_form().to_customer()
    }

    #[test]
    fn sorts_parse_their_six_names() {
        for raw in Sort::VALUES {
            assert_eq!(Sort::parse(raw).unwrap().as_str(), raw);
        }
        assert!(Sort::parse("-email").is_err());
        assert!(Sort::parse("--name").is_err());
        assert_eq!(Sort::default().as_str(), "-created");
    }

    #[test]
    fn filters_combine_by_and() {
        let mut c = customer();
        c.status = CustomerStatus::Vip;
        c.tags = vec![Tag::parse("Lead").unwrap()];
        let mut query = CustomerQuery {
            status: Some(CustomerStatus::Vip),
            tag: Some(Tag::parse("LEAD").unwrap()),
            ..CustomerQuery::default()
        };
        assert!(query.matches(&c));
        query.owner = Some(None);
        assert!(query.matches(&c), "an unassigned customer");
        query.owner = Some(Some(UserId::generate()));
        assert!(!query.matches(&c));
        query.owner = None;
        query.q = SearchQuery::parse("pat").unwrap();
        assert!(query.matches(&c));
        query.q = SearchQuery::parse("pat zed").unwrap();
        assert!(!query.matches(&c));
    }

    #[test]
    fn the_driver_is_the_most_selective_index_that_keeps_the_order() {
        let owner = Some(UserId::generate());
        let mut query = CustomerQuery {
            status: Some(CustomerStatus::Vip),
            owner: Some(owner),
            ..CustomerQuery::default()
        };
        assert_eq!(query.driver(), Driver::Facet(Facet::Owner(owner), true));
        assert!(!query.driver_decides());
        query.sort = Sort::parse("name").unwrap();
        assert_eq!(query.driver(), Driver::Rows(query.sort));
        query.q = SearchQuery::parse("acme gm").unwrap();
        assert_eq!(query.driver(), Driver::Words("acme".into()));
        assert!(!query.driver_decides());
        let one_word = CustomerQuery {
            q: SearchQuery::parse("acme").unwrap(),
            ..CustomerQuery::default()
        };
        assert!(one_word.driver_decides());
        let plain = CustomerQuery::default();
        assert_eq!(plain.driver(), Driver::Rows(Sort::default()));
        assert!(plain.driver_decides());
    }

    #[test]
    fn a_customer_counts_once_under_a_search() {
        let mut c = customer();
        c.name = crate::CustomerName::parse("Pat Patterson").unwrap();
        let query = CustomerQuery {
            q: SearchQuery::parse("pat").unwrap(),
            ..CustomerQuery::default()
        };
        assert!(query.shows(&c, "pat"));
        assert!(!query.shows(&c, "patterson"));
    }

    #[test]
    fn fingerprints_tell_queries_apart() {
        let a = CustomerQuery::default();
        let mut b = a.clone();
        b.sort = Sort::parse("name").unwrap();
        let mut c = a.clone();
        c.owner = Some(None);
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(a.fingerprint(), CustomerQuery::default().fingerprint());
    }
}
