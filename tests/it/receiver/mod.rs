//! The receiver end to end: real HTTP in, a real moto server behind the real
//! SDK clients. Each test has its own table and queue.
//!
//! | module | what it holds the receiver to |
//! |---|---|
//! | `stored` | the item, the message, the round trips, the `events/` folder |
//! | `order` | any order, duplicates, conflicts, racing copies |
//! | `refusals` | signatures, envelopes, other events, paths, methods, sizes |
//! | `reversal` | a reversal's review notices |
//! | `down` | SQS or DynamoDB down |

mod down;
mod order;
mod refusals;
mod reversal;
mod stored;
