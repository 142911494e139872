//! The integration tests: one binary, one moto server (started on first
//! use, on a free loopback port, stopped when the binary exits), and per test
//! its own table and queue. Every AWS call goes over HTTP through the real
//! SDK clients; no mocks.
//!
//! | module | what it holds the receiver to |
//! |---|---|
//! | `receiver` | the HTTP contract, the item, the message, round trips |
//! | `hostile` | 150+ hostile bodies and headers: a precise refusal, nothing stored |
//! | `crowd` | hundreds of racing, shuffled deliveries and the sweeper: one message per session |
//! | `faults` | a death between the write and the send (its lease left on the item); dependencies down or hanging |
//! | `outages` | the real binary behind a proxy that fails one AWS service at a time |
//! | `own_write` | a write whose answer is lost or late still publishes, once |
//! | `metrics` | the EMF metrics of the real binary in Lambda's environment: the time from Gu1 to the queue |
//! | `lambda_init` | the receiver's INIT in Lambda mode: connections opened before the first delivery, a failed warm-up no obstacle |
//! | `traces` | the real binary in Lambda mode (a fake Runtime API): the trace header onto the message, the log keys |
//! | `serve` | what a socket can do to `serve` |
//! | `binary` | the real binary: logs, TLS to AWS, fail-closed start |
//! | `cli` | the real binary's command line: `--help`, each command's, `--version`, exit 2 on a mistake |
//! | `consumer` | a worker on the consumer kit (`gu1_outcome::batch`) over a poisoned FIFO batch of real messages |
//! | `cost` | what each `events/` item costs in DynamoDB: under one write unit |
//! | `consumer_python` | the Python consumer of `docs/consumers.md` (Powertools) over the same, FIFO and standard |
//! | `operations` | `republish`, `erase` (CLI and handler `operate`), retention and the item's history, through the real binary |
//! | `reconcile` | `reconcile` against a fake Gu1 API: what is read, written, published once, printed; refusals, busy, down, slow |
//! | `secrets` | rotation against Secrets Manager, under forged traffic |
//! | `trust` | identity write-once, a foreign organization, dot-only ids, a lease given back: from the outside, and a property over shuffled sequences |
//! | `properties` | the pure rules, the signature and the parser under generated input |
//! | `template` | `template.yaml` against the names the code uses |
//! | `deployed` | the stack `scripts/deploy-test` deployed to MiniStack (skipped unless `GU1_DEPLOYED_STACK` is set) |

mod support;

mod binary;
mod cli;
mod consumer;
mod consumer_python;
mod cost;
mod crowd;
mod deployed;
mod faults;
mod hostile;
mod lambda_init;
mod metrics;
mod operations;
mod outages;
mod own_write;
mod properties;
mod receiver;
mod reconcile;
mod secrets;
mod serve;
mod template;
mod traces;
mod trust;
