//! Hot reload: a [`FilterHandle`] holds the current [`Dictionary`] behind an
//! atomically swappable `Arc`; readers never block, a reload builds the new
//! automaton aside and swaps it in.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::dictionary::{BuildError, Dictionary, DictionaryBuilder};

/// A shared, atomically replaceable dictionary (the global list, or one
/// room's list).
#[derive(Debug)]
pub struct FilterHandle {
    current: ArcSwap<Dictionary>,
}

impl Default for FilterHandle {
    fn default() -> Self {
        Self::new(Dictionary::empty())
    }
}

impl FilterHandle {
    /// Creates a handle holding `dictionary`.
    pub fn new(dictionary: Dictionary) -> Self {
        Self {
            current: ArcSwap::from_pointee(dictionary),
        }
    }

    /// The current dictionary. Scans already running keep the one they
    /// loaded; later loads see a newer one after a swap.
    pub fn load(&self) -> Arc<Dictionary> {
        self.current.load_full()
    }

    /// Replaces the dictionary; returns the previous one.
    pub fn swap(&self, dictionary: Dictionary) -> Arc<Dictionary> {
        self.current.swap(Arc::new(dictionary))
    }

    /// Builds a new dictionary from `builder` and swaps it in. On error the
    /// current dictionary stays in place.
    pub fn reload(&self, builder: &DictionaryBuilder) -> Result<(), BuildError> {
        let next = builder.build()?;
        self.swap(next);
        Ok(())
    }
}
