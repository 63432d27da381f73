//! Layout version and migrations. A new database gets the current version; an
//! older one is migrated step by step; a newer one is refused.

use super::StoreError;
use super::keys::{LAYOUT_KEY, LAYOUT_VERSION};

/// Check (and for a new database, write) the layout version.
pub fn migrate(meta: &sled::Tree) -> Result<(), StoreError> {
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
        meta.remove(super::keys::SCHEDULE_SIGNATURE_KEY)?;
    }
    if found < LAYOUT_VERSION {
        meta.insert(LAYOUT_KEY, &LAYOUT_VERSION.to_be_bytes())?;
    }
    Ok(())
}
