//! Counts the DynamoDB operations a function makes, and the time spent waiting on them,
//! through the SDK's interceptor hooks.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::Input;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// The operations called so far, by name, in order, and the time their HTTP attempts took.
/// `read_before_serialization` runs once per operation, however many attempts the SDK's own
/// retries make.
#[derive(Clone, Debug, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<String>>>,
    actions: Arc<Mutex<BTreeSet<String>>>,
    on_the_wire: Arc<Mutex<Duration>>,
}

#[derive(Debug)]
struct Sent(Instant);

impl Storable for Sent {
    type Storer = StoreReplace<Self>;
}

impl CallLog {
    /// Returns the calls made since the last `take`, and starts counting afresh.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().expect("call log lock"))
    }

    /// The IAM actions the calls since the last `take_actions` needed, as
    /// [`iam_actions`] names them.
    pub fn take_actions(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.actions.lock().expect("call log lock"))
    }

    /// The time spent between sending requests and their answers arriving since the last
    /// call: the local server's own time for them, plus loopback.
    pub fn take_wire_time(&self) -> Duration {
        std::mem::take(&mut *self.on_the_wire.lock().expect("call log lock"))
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = config
            .load::<Metadata>()
            .map_or("unknown", Metadata::name)
            .to_owned();
        let actions = iam_actions(&operation, context.input());
        self.actions.lock().expect("call log lock").extend(actions);
        self.calls.lock().expect("call log lock").push(operation);
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        config.interceptor_state().store_put(Sent(Instant::now()));
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Sent(at)) = config.load::<Sent>() {
            *self.on_the_wire.lock().expect("call log lock") += at.elapsed();
        }
        Ok(())
    }
}

/// The IAM actions one call needs, as `tests/permissions.rs` compares them with the template:
/// `TransactWriteItems` is no action of its own but one per item (`PutItem`, `UpdateItem`,
/// `DeleteItem`, `ConditionCheckItem`); a `Query` or `PutItem` of the signing keys' partition
/// is `Query(SIGNING_KEY)` or `PutItem(SIGNING_KEY)`, which a statement limited to that
/// leading key grants; a `Query` of an index is `Query(index/NAME)`, whose resource is the
/// index's ARN.
pub fn iam_actions(operation: &str, input: &Input) -> Vec<String> {
    if let Some(tx) = input.downcast_ref::<TransactWriteItemsInput>() {
        return tx
            .transact_items()
            .iter()
            .map(|item| {
                if item.put().is_some() {
                    "PutItem"
                } else if item.update().is_some() {
                    "UpdateItem"
                } else if item.delete().is_some() {
                    "DeleteItem"
                } else {
                    "ConditionCheckItem"
                }
                .to_owned()
            })
            .collect();
    }
    let signing_keys = |value: Option<&AttributeValue>| {
        value
            .and_then(|v| v.as_s().ok())
            .is_some_and(|pk| pk == shared::store::keys::SIGNING_KEYS)
    };
    let scoped = match (
        input.downcast_ref::<QueryInput>(),
        input.downcast_ref::<PutItemInput>(),
    ) {
        (Some(query), _) => {
            query.index_name().is_none()
                && signing_keys(
                    query
                        .expression_attribute_values()
                        .and_then(|v| v.get(":pk")),
                )
        }
        (_, Some(put)) => signing_keys(put.item().and_then(|item| item.get("pk"))),
        _ => false,
    };
    if scoped {
        return vec![format!("{operation}(SIGNING_KEY)")];
    }
    if let Some(index) = input
        .downcast_ref::<QueryInput>()
        .and_then(QueryInput::index_name)
    {
        return vec![format!("Query(index/{index})")];
    }
    vec![operation.to_owned()]
}
