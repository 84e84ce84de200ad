//! What `/metrics` reports, in Prometheus's text format: requests by route and status, their
//! duration, and ops pushed by result and pulled. Labels are routes and statuses, never ids.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushLabels {
    pub result: &'static str,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<RequestLabels, Histogram>,
    pub ops_pushed: Family<PushLabels, Counter>,
    pub ops_pulled: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("wardside");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        let ops_pushed = Family::<PushLabels, Counter>::default();
        let ops_pulled = Counter::default();
        registry.register(
            "requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "request_seconds",
            "HTTP request duration by route and status",
            request_seconds.clone(),
        );
        registry.register("ops_pushed", "Pushed ops by result", ops_pushed.clone());
        registry.register("ops_pulled", "Ops handed out by pull", ops_pulled.clone());
        Metrics {
            registry,
            requests,
            request_seconds,
            ops_pushed,
            ops_pulled,
        }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
