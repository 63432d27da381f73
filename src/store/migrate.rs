//! Layout version and migrations. A new database gets the current version; an
//! older one is migrated step by step (each step logged); a newer one is
//! refused.

use super::StoreError;
use super::keys::{DROPPED_CLIENT_ORDERS, LAYOUT_KEY, LAYOUT_VERSION, SCHEDULE_SIGNATURE_KEY};

/// Check (and for a new database, write) the layout version.
pub fn migrate(db: &sled::Db, meta: &sled::Tree) -> Result<(), StoreError> {
    let found = match meta.get(LAYOUT_KEY)? {
        None => {
            meta.insert(LAYOUT_KEY, &LAYOUT_VERSION.to_be_bytes())?;
            return Ok(());
        }
        Some(v) => {
            let bytes: [u8; 8] =
                v.as_ref().try_into().map_err(|_| StoreError::Corrupt("layout version is not 8 bytes".into()))?;
            u64::from_be_bytes(bytes)
        }
    };
    if found > LAYOUT_VERSION {
        return Err(StoreError::Layout { found, expected: LAYOUT_VERSION });
    }
    // Ordered steps from `found` to LAYOUT_VERSION.
    if found < 2 {
        // v2 adds the scheduler's index (`schedule`, `schedule_by`): new
        // trees, filled by the scheduler when it finds no signature for it.
        meta.remove(SCHEDULE_SIGNATURE_KEY)?;
        tracing::info!("Store layout 1 → 2: the schedule index will be built");
    }
    if found < 3 {
        // v3 drops the `client_orders` index: written on every order save,
        // never read (the open-orders index serves every query).
        db.drop_tree(DROPPED_CLIENT_ORDERS)?;
        tracing::info!("Store layout {} → 3: dropped the unused client_orders index", found.min(2));
    }
    if found < 4 {
        // v4 adds trees (`undo`, `originals`, `requests`), created empty, and
        // record states an older buzon cannot read: the version says so.
        tracing::info!("Store layout {} → 4: undo records, kept originals, reprocess requests", found.min(3));
    }
    if found < LAYOUT_VERSION {
        meta.insert(LAYOUT_KEY, &LAYOUT_VERSION.to_be_bytes())?;
    }
    Ok(())
}
