//! Counts the DynamoDB operations a function makes, and the time spent waiting on them,
//! through the SDK's interceptor hooks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// The operations called so far, by name, in order, and the time their HTTP attempts took.
/// `read_before_serialization` runs once per operation, however many attempts the SDK's own
/// retries make.
#[derive(Clone, Debug, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<String>>>,
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
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = config
            .load::<Metadata>()
            .map_or("unknown", Metadata::name)
            .to_owned();
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
