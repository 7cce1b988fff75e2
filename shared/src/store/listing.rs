//! Pages of an organization's customers: a search, filters and an order, read from the
//! rows and entries every customer write keeps in the same transaction as the record
//! (`CustomerItems` in `customers.rs`), so every read is strongly consistent and sees the
//! writes before it.
//!
//! A page is read from one index, the query's [`Driver`]: the rows in the order asked for
//! (each the whole customer: one `Query`), or the entries of one filter value or of the
//! words that begin with the search's leading word (ids: one `Query`, then one
//! `BatchGetItem` of the records). The rest of the query is checked on the records. A
//! request reads at most [`SCAN_LIMIT`] entries (or `limit + 1` when the driver alone
//! decides), so a selective query may give a short page with a `next_cursor`.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{Customer, CustomerId, CustomerQuery, Driver, OrgId};

use super::items::{field, record, CUSTOMER, CUSTOMER_ID};
use super::keys::{Key, PK, SK};
use super::transaction::Item;
use super::{Store, StoreError};

/// The most index entries one request reads when the driver alone does not decide.
pub const SCAN_LIMIT: usize = 100;

/// One page of a query.
#[derive(Debug)]
pub struct CustomerPage {
    pub customers: Vec<Customer>,
    /// The sort key of the last entry this page walked, when the index goes on.
    pub next: Option<String>,
}

impl Store {
    /// Up to `limit` customers of `org` matching `query`, after the entry `after`: one
    /// `Query` (strongly consistent), and for a filter or a search one `BatchGetItem`.
    pub async fn customers_matching(
        &self,
        org: OrgId,
        query: &CustomerQuery,
        limit: usize,
        after: Option<String>,
    ) -> Result<CustomerPage, StoreError> {
        let driver = query.driver();
        let (pk, prefix, forward) = match &driver {
            Driver::Rows(sort) => (
                Key::customer_rows_of(org, sort.order),
                None,
                !sort.descending,
            ),
            Driver::Facet(facet, descending) => {
                (Key::customer_facet_of(org, facet), None, !descending)
            }
            Driver::Words(word) => (Key::customer_words_of(org), Some(word.clone()), true),
        };
        let read = if query.driver_decides() {
            limit + 1
        } else {
            SCAN_LIMIT.max(limit + 1)
        };
        let (entries, more) = self.range(pk, prefix, forward, read, after).await?;
        let customers = match driver {
            Driver::Rows(_) => entries
                .iter()
                .map(|entry| field(entry, CUSTOMER).map(Some))
                .collect::<Result<Vec<_>, _>>()?,
            Driver::Facet(..) | Driver::Words(_) => self.records_of(&entries).await?,
        };
        let walked: Vec<Walked> = entries
            .iter()
            .zip(customers)
            .map(|(entry, customer)| Walked {
                sort_key: Key::of_item(entry).map(|k| k.sk).unwrap_or_default(),
                customer,
            })
            .collect();
        Ok(walk(walked, query, limit, more))
    }

    /// One strongly consistent `Query` of `pk` (sort keys beginning with `prefix`), from
    /// after `after`, reading at most `limit` items: the items, and whether more follow.
    pub(super) async fn range(
        &self,
        pk: String,
        prefix: Option<String>,
        forward: bool,
        limit: usize,
        after: Option<String>,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let start = after.map(|sk| Key { pk: pk.clone(), sk }.to_item());
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .consistent_read(true)
            .scan_index_forward(forward)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
        query = match prefix {
            Some(prefix) => query
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":prefix", AttributeValue::S(prefix)),
            None => query.key_condition_expression("#pk = :pk"),
        };
        let output = query.send().await?;
        let more = output.last_evaluated_key().is_some();
        Ok((output.items.unwrap_or_default(), more))
    }

    /// The records the entries name, in the entries' order (`None` where a record is gone):
    /// one `BatchGetItem` (strongly consistent) of each id once.
    async fn records_of(&self, entries: &[Item]) -> Result<Vec<Option<Customer>>, StoreError> {
        let ids = entries
            .iter()
            .map(|entry| field::<CustomerId>(entry, CUSTOMER_ID))
            .collect::<Result<Vec<_>, _>>()?;
        let mut keys: Vec<Key> = Vec::new();
        for id in &ids {
            let key = Key::customer(*id);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let found = self.get_many(&keys, None).await?;
        ids.iter()
            .map(|id| found.at(&Key::customer(*id)).map(record).transpose())
            .collect()
    }
}

/// An entry read, with the customer it stands for (if still there).
#[derive(Debug)]
struct Walked {
    sort_key: String,
    customer: Option<Customer>,
}

/// The page the entries give, in their order: each customer that matches the whole query
/// (under a search, at its first word with the leading prefix only), until `limit`. Pure.
fn walk(walked: Vec<Walked>, query: &CustomerQuery, limit: usize, more: bool) -> CustomerPage {
    let mut customers = Vec::new();
    let count = walked.len();
    for (i, Walked { sort_key, customer }) in walked.into_iter().enumerate() {
        let word = sort_key.split_once('#').map_or("", |(word, _)| word);
        let shown = customer.filter(|c| query.shows(c, word));
        customers.extend(shown);
        if customers.len() == limit {
            let next = (i + 1 < count || more).then_some(sort_key);
            return CustomerPage { customers, next };
        }
        if i + 1 == count && more {
            return CustomerPage {
                customers,
                next: Some(sort_key),
            };
        }
    }
    CustomerPage {
        customers,
        next: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CustomerName, SearchQuery};

    fn named(name: &str) -> Customer {
        let mut customer = crate::domain::sample_customer_form().to_customer();
        customer.name = CustomerName::parse(name).unwrap();
        customer
    }

    fn entry(sort_key: &str, customer: Option<Customer>) -> Walked {
        Walked {
            sort_key: sort_key.to_owned(),
            customer,
        }
    }

    #[test]
    fn a_page_stops_at_its_limit_and_points_past_its_last_entry() {
        let query = CustomerQuery::default();
        let entries = || vec![entry("a", Some(named("A"))), entry("b", Some(named("B")))];
        let page = walk(entries(), &query, 1, false);
        assert_eq!(page.customers.len(), 1);
        assert_eq!(page.next.as_deref(), Some("a"));
        let page = walk(entries(), &query, 2, false);
        assert_eq!((page.customers.len(), page.next), (2, None));
        let page = walk(entries(), &query, 2, true);
        assert_eq!(page.next.as_deref(), Some("b"), "the index goes on");
    }

    #[test]
    fn entries_that_do_not_match_are_walked_past() {
        let query = CustomerQuery {
            q: SearchQuery::parse("zed").unwrap(),
            ..CustomerQuery::default()
        };
        let id = |c: &Customer| c.id.to_string();
        let (a, zed) = (named("Al"), named("Zed Zedson"));
        let entries = vec![
            entry(&format!("zed#{}", id(&a)), Some(a)),
            entry(&format!("zed#{}", id(&zed)), Some(zed.clone())),
            entry(&format!("zedson#{}", id(&zed)), Some(zed.clone())),
            entry("zee#gone", None),
        ];
        let page = walk(entries, &query, 20, true);
        assert_eq!(page.customers, [zed], "once, at its first word");
        assert_eq!(page.next.as_deref(), Some("zee#gone"));
    }
}
