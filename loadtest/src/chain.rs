//! Per-viewer position tracking, sans I/O: the high-lane `since`/`upto`
//! chain (a high batch whose `since` is above the last high `upto` is a
//! gap), the resume position, and epoch changes.

/// What a viewer knows about its place in one room's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// Log epoch from `joined`.
    pub epoch: String,
    /// Last high-lane `upto` (starts at `joined.offset`).
    pub high_upto: u64,
    /// Resume position: the largest `upto` of any positional batch.
    pub last: u64,
    /// High-lane gaps seen.
    pub gaps: u64,
    /// Offsets inside those gaps (both lanes: the chain cannot tell which
    /// missing offsets were high events).
    pub missing: u64,
    /// Batches of another epoch (the log was reset).
    pub epoch_changes: u64,
}

/// How a batch moved the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// In order.
    Ok,
    /// High-lane loss of this many offsets.
    Gap(u64),
    /// A batch of another epoch.
    EpochChanged,
}

impl Chain {
    /// Starts (or restarts after a join) from a `joined` reply.
    pub fn joined(&mut self, epoch: &str, offset: u64) {
        if self.epoch != epoch {
            self.epoch = epoch.to_string();
        }
        self.high_upto = offset;
        self.last = offset;
    }

    /// Applies a high-lane batch.
    pub fn high(&mut self, epoch: &str, since: u64, upto: u64) -> Step {
        if epoch != self.epoch {
            self.epoch_changes += 1;
            return Step::EpochChanged;
        }
        let step = if since > self.high_upto {
            let span = since - self.high_upto;
            self.gaps += 1;
            self.missing += span;
            Step::Gap(span)
        } else {
            Step::Ok
        };
        self.high_upto = self.high_upto.max(upto);
        self.last = self.last.max(upto);
        step
    }

    /// Applies a low-lane batch (no loss detection: the low lane is sampled).
    /// Totals-only frames (`since = upto = 0`) say nothing about position.
    pub fn low(&mut self, upto: u64) {
        self.last = self.last.max(upto);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_batches_have_no_gap() {
        let mut c = Chain::default();
        c.joined("e", 3);
        assert_eq!(c.high("e", 3, 5), Step::Ok);
        c.low(7);
        // The high lane's since is the previous high upto, not the low one.
        assert_eq!(c.high("e", 5, 9), Step::Ok);
        assert_eq!((c.gaps, c.missing, c.high_upto, c.last), (0, 0, 9, 9));
    }

    #[test]
    fn a_skipped_batch_is_a_gap_of_its_span() {
        let mut c = Chain::default();
        c.joined("e", 0);
        assert_eq!(c.high("e", 0, 2), Step::Ok);
        // (2, 6] never arrived.
        assert_eq!(c.high("e", 6, 8), Step::Gap(4));
        assert_eq!(c.high("e", 8, 9), Step::Ok);
        assert_eq!(c.high("e", 12, 20), Step::Gap(3));
        assert_eq!((c.gaps, c.missing, c.high_upto), (2, 7, 20));
    }

    #[test]
    fn overlap_after_join_is_not_a_gap() {
        let mut c = Chain::default();
        c.joined("e", 10);
        // Trimmed frame straddling the snapshot: since raised to the offset.
        assert_eq!(c.high("e", 10, 12), Step::Ok);
        // A late duplicate below the position.
        assert_eq!(c.high("e", 4, 6), Step::Ok);
        assert_eq!(c.high_upto, 12);
    }

    #[test]
    fn resume_resets_position_and_epoch_change_is_reported() {
        let mut c = Chain::default();
        c.joined("e", 0);
        c.high("e", 0, 4);
        c.joined("e", 9); // recovered resume: missed events applied
        assert_eq!(c.high("e", 9, 10), Step::Ok);
        assert_eq!(c.high("f", 0, 1), Step::EpochChanged);
        assert_eq!(c.epoch_changes, 1);
        assert_eq!(c.gaps, 0);
    }

    #[test]
    fn totals_only_low_frames_do_not_move_position() {
        let mut c = Chain::default();
        c.joined("e", 5);
        c.low(0);
        assert_eq!(c.last, 5);
    }
}
