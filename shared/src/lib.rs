//! The shared core of the CRM's Lambda functions.
//!
//! - [`domain`]: validated values and records; pure.
//! - [`store`]: DynamoDB: keys, the table, and one transaction per use case.
//! - [`http`]: API Gateway requests in, JSON responses out, errors mapped in one place.
//! - [`auth`]: access tokens.
//! - [`app`]: what a function builds once at cold start.
//! - [`config`]: every setting, read once.
//! - [`serve`]: what every function's `main` runs.

pub mod app;
pub mod auth;
pub mod config;
pub use crm_domain as domain;
pub mod http;
pub mod mailer;
pub mod metrics;
pub mod secrets;
pub mod serve;
pub mod store;
pub mod stream;
pub mod telemetry;
