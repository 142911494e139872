//! The usage texts: what `--help` and a refused command line print.

/// What `gu1-webhook --help` prints.
pub const USAGE: &str = "\
usage: gu1-webhook [COMMAND] [OPTIONS]

Receives Gu1's biometric-session webhooks: the state in DynamoDB, each
terminal outcome once on SQS. Without a command it runs in AWS Lambda as
the function's handler says (bootstrap: the receiver, sweep, reconcile).

commands:
  serve            the receiver over local HTTP
  sweep            one sweep: publish the outcomes a failure left pending
  reconcile        one reconciliation run against Gu1's API
  track            register sessions your backend created, for reconciliation
  republish        send stored outcomes again (by session, or since a time)
  erase            erase a person's personal fields, leaving a tombstone
  help [COMMAND]   this text, or COMMAND's

options:
  -h, --help       this text (COMMAND --help: COMMAND's)
  -V, --version    the version

Configuration comes from the environment (README.md, Configuration).
An unknown command or option exits 2.";

pub const SERVE_USAGE: &str = "\
usage: gu1-webhook serve [--listen ADDR]

The receiver (POST /webhooks/gu1) over plain HTTP, until interrupted.
Needs GU1_WEBHOOK_SECRETS or GU1_WEBHOOK_SECRETS_ARN, SESSIONS_TABLE,
OUTCOMES_QUEUE_URL (REVIEWS_QUEUE_URL for review notices) and AWS
configuration.

options:
  --listen ADDR    the address to listen on (default 127.0.0.1:3000)
  -h, --help       this text";

pub const SWEEP_USAGE: &str = "\
usage: gu1-webhook sweep [--grace-seconds N] [--page-size N]

One sweep: publishes the terminal outcomes a failure left unpublished and
prints {\"published\":N,\"skipped\":N,\"failed\":N}; exits 1 if any failed.
Needs SESSIONS_TABLE, OUTCOMES_QUEUE_URL (REVIEWS_QUEUE_URL for review notices) and AWS
configuration.

options:
  --grace-seconds N  take an outcome only once it is N seconds old
                     (default SWEEP_GRACE_SECONDS, else 17)
  --page-size N      sessions per page of the index, 1 to 1000
                     (default SWEEP_PAGE_SIZE, else 25)
  -h, --help         this text";

pub const RECONCILE_USAGE: &str = "\
usage: gu1-webhook reconcile [--stale-after N] [--session ID]...

One reconciliation run: reads sessions from Gu1's API and applies what
changed, as a delivery would; prints {\"checked\":N,\"applied\":N,
\"unchanged\":N,\"notFound\":N,\"failed\":N}; exits 1 if Gu1 refused the key
or any check failed. Needs GU1_API_KEY or GU1_API_KEY_ARN,
GU1_ORGANIZATION_ID, SESSIONS_TABLE, OUTCOMES_QUEUE_URL (REVIEWS_QUEUE_URL for review notices) and AWS
configuration.

options:
  --stale-after N  without --session: the sessions nothing moved for N
                   seconds (default RECONCILE_STALE_AFTER_SECONDS, else 1800)
  --session ID     this session, known or not (repeatable; an ID that
                   starts with '-' as --session=ID)
  -h, --help       this text";

pub const TRACK_USAGE: &str = "\
usage: gu1-webhook track --session ID... [--entity ID]

Registers sessions your backend created as pending, through the same
conditional write as a delivery, so that reconciliation reads them from
Gu1's API even if Gu1 never sends a webhook for them; a session already
known is left as it is. Prints {\"tracked\":N,\"known\":N,\"conflicts\":N}
(conflicts: the session has another entity). Needs SESSIONS_TABLE,
OUTCOMES_QUEUE_URL and AWS configuration.

options:
  --session ID     a session to register (repeatable; an ID that starts
                   with '-' as --session=ID)
  --entity ID      the person's Gu1 entity id, stored with each session
  -h, --help       this text";

pub const REPUBLISH_USAGE: &str = "\
usage: gu1-webhook republish --session ID...
       gu1-webhook republish --since T [--until T] [--status S] [--limit N]
                             [--after CURSOR]

Sends stored outcomes again as new messages, for a worker that lost or
mis-processed them: the body is the original's, the republishedAt message
attribute says it is a re-send, and a FIFO queue takes it (deduplication id
sessionId:status:rN). Only terminal sessions, never while another publisher
holds the session's lease; an outcome never sent goes out as the original.
Prints {\"republished\":N,\"firstSends\":N,\"notFound\":N,\"notTerminal\":N,
\"erased\":N,\"busy\":N,\"otherStatus\":N,\"failed\":N,\"unfinished\":0,
\"next\":CURSOR|null};
exits 1 if any failed. Needs SESSIONS_TABLE, OUTCOMES_QUEUE_URL and AWS
configuration.

options:
  --session ID     a session to republish (repeatable)
  --since T        the sessions made terminal at or after T (RFC 3339, e.g.
                   2026-12-01T14:00:00Z), read from the TerminalOutcomes
                   index, oldest first; a window is at most 400 days
  --until T        ... and at or before T (default: now)
  --status S       only this terminal status (approved, rejected, ...)
  --limit N        at most N sessions this run, 1 to 1000 (default 100);
                   the report's next is where the next run goes on
  --after CURSOR   go on after a run's next
  -h, --help       this text";

pub const ERASE_USAGE: &str = "\
usage: gu1-webhook erase --session ID... | --entity ID | --external-id X

Erases a person's personal fields (entityId, externalId, rejectionMessage,
decision, identityConflicts, review notices) from the table, and leaves a
tombstone (sessionId, status, history, erasedAt): a replayed delivery or a
reconciliation of that session is answered but stores nothing and publishes
nothing. A person's sessions are found through the SessionsByEntity or
SessionsByExternalId index. Prints {\"erased\":N,\"alreadyErased\":N,
\"notFound\":N,\"busy\":N,\"unfinished\":0}; exits 1 if any was busy (a publisher held its
lease): run it again. Messages already on a queue are not recalled
(docs/operations.md, Personal data). Needs SESSIONS_TABLE,
OUTCOMES_QUEUE_URL and AWS configuration.

options:
  --session ID       a session to erase (repeatable)
  --entity ID        every session of Gu1's entity (the person)
  --external-id X    every session of your own customer key
  -h, --help         this text";
