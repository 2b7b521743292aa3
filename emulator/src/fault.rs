//! Scripted failures, so clients' retry and error paths can be exercised.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// A failure to inject into the next calls of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `ThrottlingException` with HTTP 400, as GameLift sends it. The AWS SDKs
    /// classify this code as a throttling error and retry it.
    Throttle,
    /// `InternalServiceException` with this HTTP status (500, 503, ...).
    ServerError(u16),
    /// Wait this long, then answer normally: for timeout handling.
    Delay(Duration),
    /// HTTP 200 whose body is neither CBOR nor JSON: for decode-error handling.
    Garbage,
    /// Carry the operation out at once, then hold the reply this long: the
    /// change has happened while the client still waits (a client killed or
    /// failing in that window is what this is for).
    SlowReply(Duration),
}

/// Per-operation queues of pending faults. Each call of an operation consumes
/// at most one fault from the front of its queue, so injections made in
/// sequence (throttle twice, then garbage once) play out in that order.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    queues: HashMap<String, VecDeque<Fault>>,
}

impl FaultPlan {
    pub(crate) fn inject(&mut self, operation: &str, fault: Fault, times: usize) {
        let queue = self.queues.entry(operation.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    pub(crate) fn next(&mut self, operation: &str) -> Option<Fault> {
        self.queues.get_mut(operation)?.pop_front()
    }

    pub(crate) fn pending(&self, operation: &str) -> usize {
        self.queues.get(operation).map_or(0, VecDeque::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_then_stop() {
        let mut plan = FaultPlan::default();
        plan.inject("Op", Fault::Throttle, 2);
        plan.inject("Op", Fault::Garbage, 1);
        assert_eq!(plan.pending("Op"), 3);
        assert_eq!(plan.next("Other"), None);
        assert_eq!(plan.next("Op"), Some(Fault::Throttle));
        assert_eq!(plan.next("Op"), Some(Fault::Throttle));
        assert_eq!(plan.next("Op"), Some(Fault::Garbage));
        assert_eq!(plan.next("Op"), None);
    }
}
