//! Incremental forward ingestion: `listforwards` by `index=created` (every new forward, the
//! `local_failed` ones only there) and by `index=updated` (resolutions), each from its stored
//! cursor, in pages, upserted into the ledger; newly final forwards feed the flow analytics.

use super::CycleError;
use crate::{
    analytics::FlowTracker,
    node::Node,
    store::{ForwardIndex, Store},
};

const PAGE: u32 = 1000;

/// Returns how many forward records were read.
pub fn ingest_forwards(
    node: &dyn Node,
    store: &mut Store,
    flows: &mut FlowTracker,
) -> Result<usize, CycleError> {
    store.mark_observed(node.now_secs())?;
    let mut read = 0;
    for index in [ForwardIndex::Created, ForwardIndex::Updated] {
        loop {
            let start = store.forwards_cursor(index)?;
            let page = match index {
                ForwardIndex::Created => node.forwards_created_since(start, PAGE)?,
                ForwardIndex::Updated => node.forwards_updated_since(start, PAGE)?,
            };
            read += page.len();
            for forward in store.ingest_forwards(&page, index)? {
                flows.record(&forward);
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
    }
    Ok(read)
}
