//! Reading the two sparse indexes: the unpublished outcomes (for the
//! sweeper) and the stale active sessions (for reconciliation). Both are
//! queries on an index that holds only what is due, never a scan.

use super::update::{n, s};
use super::{
    ACTIVE, ACTIVE_ATTR, CHECKED_AT_ATTR, Item, KEY, PENDING, PENDING_ATTR, STALE_INDEX,
    SessionStore, StoreError, TERMINAL_AT_ATTR, UNPUBLISHED_INDEX,
};
use crate::session::SessionId;

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
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#p = :p AND #s <= :cutoff")
            .expression_attribute_names("#p", partition)
            .expression_attribute_names("#s", sort)
            .expression_attribute_values(":p", s(value))
            .expression_attribute_values(":cutoff", n(cutoff_ms))
            .limit(page_size.max(1))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| StoreError::new("Query", e))?;
        let sessions = output
            .items()
            .iter()
            .filter_map(|item| item.get(KEY)?.as_s().ok())
            .filter_map(|id| SessionId::parse(id).ok())
            .collect();
        Ok(Page {
            sessions,
            next: output.last_evaluated_key,
        })
    }
}
