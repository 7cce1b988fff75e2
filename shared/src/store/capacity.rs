//! Every call asks DynamoDB what it consumed (`ReturnConsumedCapacity = TOTAL`, free of
//! charge) and adds the answer to the request's tally (`crate::metrics`), as DynamoDB bills
//! it: read units for reads, write units for writes (a transaction's are already doubled).
//! An SDK interceptor does both, so no call site can forget.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

#[derive(Debug)]
pub struct CapacityMeter;

fn units<'a>(consumed: impl IntoIterator<Item = &'a ConsumedCapacity>) -> f64 {
    consumed
        .into_iter()
        .filter_map(ConsumedCapacity::capacity_units)
        .sum()
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        let total = Some(ReturnConsumedCapacity::Total);
        macro_rules! ask {
            ($($input:ty),*) => {$(
                if let Some(input) = input.downcast_mut::<$input>() {
                    input.return_consumed_capacity = total;
                    return Ok(());
                }
            )*};
        }
        ask!(
            GetItemInput,
            BatchGetItemInput,
            QueryInput,
            PutItemInput,
            UpdateItemInput,
            DeleteItemInput,
            TransactWriteItemsInput
        );
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        let read = if let Some(o) = output.downcast_ref::<GetItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<BatchGetItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
            units(o.consumed_capacity())
        } else {
            0.0
        };
        let write = if let Some(o) = output.downcast_ref::<PutItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<DeleteItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
            units(o.consumed_capacity())
        } else {
            0.0
        };
        crate::metrics::add(|tally| {
            tally.read_units += read;
            tally.write_units += write;
        });
        Ok(())
    }
}
