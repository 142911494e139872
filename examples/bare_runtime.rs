//! The cold-start reference of `scripts/bench`: a bare `lambda_runtime`
//! function (the runtime's own hello world, returning its input), built with
//! the same release profile, so that the receiver's init (configuration, both
//! SDK clients, the keyring) is measured against a function that does none.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
