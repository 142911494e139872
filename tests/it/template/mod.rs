//! The deployment wiring no other test can see: `template.yaml` checked
//! against the names the code uses. Each test fails if the template and the
//! code drift apart (a renamed variable, index, route or handler).
//!
//! | module | what it holds |
//! |---|---|
//! | `yaml` | reading the template: paths, scalars, intrinsics, conditions and `!If` lists under the default parameters or given values |
//! | `resources` | finding resources: the four functions, their events and environment, the queue |
//! | `functions` | variables, the retention, handlers, the route, the operator function, timeouts: tests |
//! | `storage` | the table, its indexes and time to live, the upgrade from 0.1.0 one index per deploy, the FIFO queue: tests |
//! | `iam` | every grant named and called by the code, the operator's exactly: helpers and tests |
//! | `alarms` | every metric alarm on what the code emits, every function's errors: helpers and tests |
//! | `dashboard` | every widget reads a metric the code emits (names, dimensions, results), or one of the stack's AWS metrics or log groups; what it must show: tests |
//! | `widgets` | reading the dashboard's body: its widgets, a metric widget's lines |
//! | `runbook` | every alarm has an entry in docs/operations.md, every entry an alarm: test |
//! | `queue_policy` | the queues' policies (who may send, who may receive), the visibility timeout, the DLQ's ARN: tests |
//! | `security` | the optional baseline: the table's customer key and its grants, the roles' permissions boundary, the API key's KMS key, the rule on reconciliation's parameters: tests |

mod alarms;
mod dashboard;
mod functions;
mod iam;
mod queue_policy;
mod resources;
mod runbook;
mod security;
mod storage;
mod widgets;
mod yaml;
