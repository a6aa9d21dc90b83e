//! Incremental forward ingestion: `listforwards index=updated` from the stored cursor, in
//! pages, upserted into the ledger; newly settled forwards feed the flow analytics.

use super::CycleError;
use crate::{analytics::FlowTracker, node::Node, store::Store};

const PAGE: u32 = 1000;

/// Returns how many forward records were read.
pub fn ingest_forwards(
    node: &dyn Node,
    store: &mut Store,
    flows: &mut FlowTracker,
) -> Result<usize, CycleError> {
    store.mark_observed(node.now_secs())?;
    let mut read = 0;
    loop {
        let start = store.forwards_cursor()?;
        let page = node.forwards_updated_since(start, PAGE)?;
        if page.is_empty() {
            return Ok(read);
        }
        read += page.len();
        for forward in store.ingest_forwards(&page)? {
            flows.record(&forward);
        }
        if page.len() < PAGE as usize {
            return Ok(read);
        }
    }
}
