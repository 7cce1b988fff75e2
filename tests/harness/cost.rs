//! What requests cost on AWS: the prices, each function's configured memory, and the
//! arithmetic `make bench` prints its cost tables with.

use std::collections::HashMap;
use std::time::Duration;

use crate::Capacity;

/// US East (N. Virginia) on-demand prices, USD, as AWS published them after DynamoDB's
/// on-demand price cut of 1 November 2024, and unchanged since as far as this project knows
/// (December 2026; this machine cannot reach <https://aws.amazon.com/lambda/pricing/> or
/// <https://aws.amazon.com/dynamodb/pricing/on-demand/> to check).
pub mod price {
    /// Lambda on arm64, per GB-second (the first 7.5 billion GB-seconds of a month).
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    /// Lambda, per request.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// DynamoDB on-demand, per write request unit.
    pub const WRITE_UNIT: f64 = 0.625 / 1e6;
    /// DynamoDB on-demand, per read request unit.
    pub const READ_UNIT: f64 = 0.125 / 1e6;
    /// API Gateway HTTP API, per request (the first 300 million of a month).
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
}

/// The prices, as the tables' footnote.
pub const PRICES: &str = "prices (us-east-1, published after 1 Nov 2024): Lambda arm64 $0.0000133334/GB-s and $0.20/M requests; DynamoDB on-demand $0.625/M write units, $0.125/M read units; HTTP API $1.00/M requests (not in the totals)";

/// Configured memory (MB) of each function's binary in template.yaml: the global default,
/// or the function's own.
pub fn memory_sizes() -> HashMap<String, f64> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml");
    let template: serde_norway::Value = serde_norway::from_str(&text).expect("template.yaml");
    let default = template["Globals"]["Function"]["MemorySize"].as_f64();
    let mut sizes = HashMap::new();
    for resource in template["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
    {
        if let Some(binary) = resource["Metadata"]["BuildProperties"]["Binary"].as_str() {
            let own = resource["Properties"]["MemorySize"].as_f64();
            sizes.insert(binary.to_owned(), own.or(default).expect("a MemorySize"));
        }
    }
    sizes
}

/// GB-seconds of one request of `duration` at `mb` (rounded up to the millisecond, as Lambda
/// bills), and Lambda's price of a million of them, request fee included.
pub fn lambda_per_million(duration: Duration, mb: f64) -> (f64, f64) {
    let billed_ms = (duration.as_secs_f64() * 1000.0).ceil();
    let gb_seconds = billed_ms / 1000.0 * mb / 1024.0;
    let usd = (gb_seconds * price::LAMBDA_GB_SECOND + price::LAMBDA_REQUEST) * 1e6;
    (gb_seconds, usd)
}

/// DynamoDB's price of a million requests consuming `capacity` each.
pub fn dynamodb_per_million(capacity: Capacity) -> f64 {
    (capacity.read * price::READ_UNIT + capacity.write * price::WRITE_UNIT) * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_requests_cost_what_the_prices_say() {
        // 1.2 ms bills as 2 ms: at 1024 MB, 0.002 GB-s.
        let (gb_seconds, usd) = lambda_per_million(Duration::from_micros(1200), 1024.0);
        assert!((gb_seconds - 0.002).abs() < 1e-12);
        assert!((usd - (0.002 * 13.3334 + 0.20)).abs() < 1e-9, "{usd}");
        let usd = dynamodb_per_million(Capacity {
            read: 1.0,
            write: 36.0,
        });
        assert!((usd - (0.125 + 36.0 * 0.625)).abs() < 1e-9, "{usd}");
        assert_eq!(memory_sizes()["signup"], 1024.0);
        assert_eq!(memory_sizes()["me"], 256.0);
    }
}
