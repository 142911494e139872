//! Reading the indexes, never a scan: the unpublished outcomes (for the
//! sweeper), the stale active sessions (for reconciliation), the terminal
//! outcomes by day (for `republish --since`) and one person's sessions (for
//! `erase`).

use super::update::{n, s};
use super::{
    ACTIVE, ACTIVE_ATTR, CHECKED_AT_ATTR, ENTITY_ID_ATTR, ENTITY_INDEX, EXTERNAL_ID_INDEX, Item,
    KEY, PENDING, PENDING_ATTR, STALE_INDEX, STATUS_ATTR, SessionStore, StoreError,
    TERMINAL_AT_ATTR, TERMINAL_DAY_ATTR, TERMINAL_INDEX, UNPUBLISHED_INDEX,
};
use crate::clock::utc_day;
use crate::session::{SessionId, SessionStatus};
use aws_sdk_dynamodb::types::AttributeValue;

/// A page of one of the sparse indexes.
#[derive(Debug, Default)]
pub struct Page {
    pub sessions: Vec<SessionId>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Item>,
}

impl SessionStore {
    /// One page of sessions whose terminal outcome is unpublished and was
    /// written at or before `cutoff_ms`, oldest first, from the sparse index.
    pub async fn unpublished(
        &self,
        cutoff_ms: u64,
        page_size: i32,
        start: Option<Item>,
    ) -> Result<Page, StoreError> {
        let index = (UNPUBLISHED_INDEX, PENDING_ATTR, PENDING, TERMINAL_AT_ATTR);
        self.index_page(index, cutoff_ms, page_size, start).await
    }

    /// One page of active (pending or in progress) sessions that nothing has
    /// moved or checked since `cutoff_ms`, least recently first, from the
    /// sparse index [`STALE_INDEX`].
    pub async fn stale(
        &self,
        cutoff_ms: u64,
        page_size: i32,
        start: Option<Item>,
    ) -> Result<Page, StoreError> {
        let index = (STALE_INDEX, ACTIVE_ATTR, ACTIVE, CHECKED_AT_ATTR);
        self.index_page(index, cutoff_ms, page_size, start).await
    }

    /// One page of a sparse index `(name, partition key, its one value, sort
    /// key)`: the sessions whose sort key is at most `cutoff_ms`.
    async fn index_page(
        &self,
        (index, partition, value, sort): (&str, &str, &str, &str),
        cutoff_ms: u64,
        page_size: i32,
        start: Option<Item>,
    ) -> Result<Page, StoreError> {
        let query = Query {
            index,
            condition: "#p = :p AND #s <= :cutoff",
            names: &[("#p", partition), ("#s", sort)],
            values: vec![(":p", s(value)), (":cutoff", n(cutoff_ms))],
            limit: Some(page_size),
        };
        let (items, next) = self.query(query, start).await?;
        Ok(Page {
            sessions: items.iter().filter_map(session_of).collect(),
            next,
        })
    }

    /// One page of `query` after `start`: its items, and where the next
    /// page starts (`None` on the last).
    async fn query(
        &self,
        query: Query<'_>,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(query.index)
            .key_condition_expression(query.condition)
            .set_limit(query.limit.map(|limit| limit.max(1)))
            .set_exclusive_start_key(start);
        for (placeholder, attr) in query.names {
            request = request.expression_attribute_names(*placeholder, *attr);
        }
        for (placeholder, value) in query.values {
            request = request.expression_attribute_values(placeholder, value);
        }
        let output = request
            .send()
            .await
            .map_err(|e| StoreError::new("Query", e))?;
        Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
    }
}

/// A query of one index: its key condition, the names and values it uses,
/// and at most how many items a page reads.
struct Query<'a> {
    index: &'a str,
    condition: &'a str,
    names: &'a [(&'a str, &'a str)],
    values: Vec<(&'a str, AttributeValue)>,
    limit: Option<i32>,
}

/// The session an index item names, if it is a valid id.
fn session_of(item: &Item) -> Option<SessionId> {
    SessionId::parse(item.get(KEY)?.as_s().ok()?).ok()
}

/// One session of the terminal outcomes' index: when it became terminal,
/// and its status (projected, so a `--status` filter reads no item).
#[derive(Debug, Clone, PartialEq)]
pub struct TerminalEntry {
    pub session: SessionId,
    pub terminal_at: u64,
    pub status: Option<SessionStatus>,
}

impl TerminalEntry {
    /// The index key that a query resumes after (`ExclusiveStartKey`).
    pub fn start_key(&self) -> Item {
        Item::from([
            (KEY.to_owned(), s(self.session.as_str())),
            (TERMINAL_DAY_ATTR.to_owned(), s(utc_day(self.terminal_at))),
            (TERMINAL_AT_ATTR.to_owned(), n(self.terminal_at)),
        ])
    }
}

impl SessionStore {
    /// Up to `limit` sessions made terminal on `day` (`2026-12-01`) between
    /// `from_ms` and `to_ms` (inclusive), in order, after `start`; and
    /// whether the day may hold more.
    pub async fn terminal_on(
        &self,
        day: &str,
        (from_ms, to_ms): (u64, u64),
        limit: i32,
        start: Option<Item>,
    ) -> Result<(Vec<TerminalEntry>, bool), StoreError> {
        let query = Query {
            index: TERMINAL_INDEX,
            condition: "#day = :day AND #at BETWEEN :from AND :to",
            names: &[("#day", TERMINAL_DAY_ATTR), ("#at", TERMINAL_AT_ATTR)],
            values: vec![(":day", s(day)), (":from", n(from_ms)), (":to", n(to_ms))],
            limit: Some(limit),
        };
        let (items, next) = self.query(query, start).await?;
        let entries = items
            .iter()
            .filter_map(|item| {
                Some(TerminalEntry {
                    session: session_of(item)?,
                    terminal_at: item.get(TERMINAL_AT_ATTR)?.as_n().ok()?.parse().ok()?,
                    status: item
                        .get(STATUS_ATTR)
                        .and_then(|v| v.as_s().ok())
                        .and_then(|v| SessionStatus::parse(v)),
                })
            })
            .collect();
        Ok((entries, next.is_some()))
    }

    /// Every session of one person: those whose `attr` (the entity id or
    /// the external id) is `value`, read from its keys-only index, page by
    /// page, at most `max`.
    pub async fn sessions_of(
        &self,
        attr: &str,
        value: &str,
        max: usize,
    ) -> Result<Vec<SessionId>, StoreError> {
        let index = if attr == ENTITY_ID_ATTR {
            ENTITY_INDEX
        } else {
            EXTERNAL_ID_INDEX
        };
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let query = Query {
                index,
                condition: "#p = :p",
                names: &[("#p", attr)],
                values: vec![(":p", s(value))],
                limit: None,
            };
            let (items, next) = self.query(query, start).await?;
            sessions.extend(items.iter().filter_map(session_of));
            start = next;
            if start.is_none() || sessions.len() >= max {
                sessions.truncate(max);
                return Ok(sessions);
            }
        }
    }
}
