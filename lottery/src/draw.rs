//! Drawing (and abandoning) a lottery: the VRF input alpha, the proof over
//! it, winner selection and the resulting [`Record`].

use crate::announcement::{Announcement, AnnouncementError};
use crate::beacon::{BeaconRound, verify_round};
use crate::definition::MAX_FIELD_BYTES;
use crate::keys::SecretKey;
use crate::participants::Commitment;
use crate::record::{
    AbnormalOutcome, DrawOutcome, Outcome, PublishedCommitment, RECORD_VERSION, Record, Winner,
    abnormal_bytes,
};
use crate::select::{redemption_code, select_winners};
use crate::vrf::{self, VrfError};

/// Length of alpha: announcement hash (32) ‖ root (32) ‖ u64be(N) (8).
pub const ALPHA_LEN: usize = 72;

/// Length of alpha with a beacon: [`ALPHA_LEN`] ‖ the round's signature (48).
pub const BEACON_ALPHA_LEN: usize = ALPHA_LEN + 48;

/// Why a draw could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    /// The announcement does not check out.
    #[error(transparent)]
    Announcement(#[from] AnnouncementError),
    /// The key is not the one that signed the announcement.
    #[error("secret key does not match the announcement's public key")]
    KeyMismatch,
    /// The VRF failed (practically impossible for a valid key).
    #[error(transparent)]
    Vrf(#[from] VrfError),
    /// The beacon round is missing, not the announced one, or its
    /// signature does not verify under the announced chain key.
    #[error("beacon round {0} missing, not the announced one, or not signed by the chain")]
    Beacon(u64),
    /// The abnormal reason is too long.
    #[error("reason is longer than {MAX_FIELD_BYTES} bytes")]
    ReasonTooLong,
}

/// The VRF input: `SHA-256(announcement bytes) ‖ root ‖ u64be(N)`.
pub fn alpha(announcement_hash: &[u8; 32], root: &[u8; 32], count: u64) -> [u8; ALPHA_LEN] {
    let mut out = [0u8; ALPHA_LEN];
    out[..32].copy_from_slice(announcement_hash);
    out[32..64].copy_from_slice(root);
    out[64..].copy_from_slice(&count.to_be_bytes());
    out
}

/// The VRF input with a beacon: `alpha ‖ signature` (120 bytes).
pub fn alpha_with_beacon(
    announcement_hash: &[u8; 32],
    root: &[u8; 32],
    count: u64,
    signature: &[u8; 48],
) -> Vec<u8> {
    let mut out = alpha(announcement_hash, root, count).to_vec();
    out.extend_from_slice(signature);
    out
}

fn check_key(announcement: &Announcement, key: &SecretKey) -> Result<[u8; 32], DrawError> {
    announcement.verify()?;
    if key.public_key() != announcement.public_key {
        return Err(DrawError::KeyMismatch);
    }
    Ok(announcement.hash())
}

/// Draws the winners: proves alpha with the VRF, takes β as the seed,
/// selects `min(K, N)` winners and derives their redemption codes.
///
/// Pure: the caller decides when (after the window closed) and stores the
/// record atomically so a lottery is drawn once.
pub fn draw(
    announcement: &Announcement,
    commitment: &Commitment,
    key: &SecretKey,
) -> Result<Record, DrawError> {
    draw_with_beacon(announcement, commitment, None, key)
}

/// [`draw`] for an announcement that names a beacon round: `round` must be
/// that round with a signature that verifies under the chain's key; its
/// signature is appended to alpha and the round goes into the record.
/// Without a beacon in the announcement, `round` must be `None`.
pub fn draw_with_beacon(
    announcement: &Announcement,
    commitment: &Commitment,
    round: Option<&BeaconRound>,
    key: &SecretKey,
) -> Result<Record, DrawError> {
    let announcement_hash = check_key(announcement, key)?;
    let root = commitment.root();
    let count = commitment.count();
    let input = match (&announcement.definition.beacon, round) {
        (None, None) => alpha(&announcement_hash, &root, count).to_vec(),
        (Some(b), Some(r))
            if r.round == b.round && verify_round(&b.public_key, r.round, &r.signature) =>
        {
            alpha_with_beacon(&announcement_hash, &root, count, &r.signature)
        }
        (_, r) => return Err(DrawError::Beacon(r.map_or(0, |r| r.round))),
    };
    let proof = vrf::prove(key, &input)?;
    let beta = vrf::proof_to_hash(&proof)?;
    let winners = select_winners(
        &beta,
        commitment.participants(),
        announcement.definition.winners,
    )
    .into_iter()
    .map(|user_id| Winner {
        user_id: user_id.to_owned(),
        redemption_code: redemption_code(&beta, user_id),
    })
    .collect();
    Ok(Record {
        version: RECORD_VERSION,
        announcement: announcement.clone(),
        announcement_hash,
        outcome: Outcome::Drawn(DrawOutcome {
            commitment: PublishedCommitment {
                root,
                count,
                participants: commitment.participants().to_vec(),
            },
            beacon: round.copied(),
            proof,
            beta,
            winners,
        }),
    })
}

/// Records that the lottery ended without a draw (the live ended before the
/// draw time), signed so that the claim is attributable.
pub fn abandon(
    announcement: &Announcement,
    key: &SecretKey,
    reason: &str,
) -> Result<Record, DrawError> {
    if reason.len() > MAX_FIELD_BYTES {
        return Err(DrawError::ReasonTooLong);
    }
    let announcement_hash = check_key(announcement, key)?;
    let signature = key.sign(&abnormal_bytes(&announcement_hash, reason));
    Ok(Record {
        version: RECORD_VERSION,
        announcement: announcement.clone(),
        announcement_hash,
        outcome: Outcome::Abnormal(AbnormalOutcome {
            reason: reason.to_owned(),
            signature,
        }),
    })
}
