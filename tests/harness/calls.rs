//! Counts the DynamoDB operations a function makes, through the SDK's interceptor hook.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// The operations called so far, by name, in order. `read_before_serialization` runs once per
/// operation, however many HTTP attempts the SDK's own retries make.
#[derive(Clone, Debug, Default)]
pub struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    /// Returns the calls made since the last `take`, and starts counting afresh.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("call log lock"))
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
        self.0.lock().expect("call log lock").push(operation);
        Ok(())
    }
}
