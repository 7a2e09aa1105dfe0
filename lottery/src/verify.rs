//! Checking a published record from the record alone: signature, canonical
//! participant list, root and N, VRF proof, β, winners and redemption codes.

use crate::announcement::AnnouncementError;
use crate::beacon::{BeaconChain, verify_round};
use crate::definition::{LotteryDefinition, MAX_FIELD_BYTES};
use crate::draw::{alpha, alpha_with_beacon};
use crate::keys::PublicKey;
use crate::merkle;
use crate::record::{DrawState, Outcome, RECORD_VERSION, Record, Winner, abnormal_bytes};
use crate::select::{redemption_code, select_winners};
use crate::vrf::{self, VrfError};

/// The first check a record failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The record's version is not [`RECORD_VERSION`].
    #[error("unsupported record version {0}")]
    UnsupportedVersion(u32),
    /// The record was signed by another key than the pinned one.
    #[error("public key {0} is not the pinned key")]
    KeyNotPinned(String),
    /// The announcement's definition or signature is invalid.
    #[error("announcement: {0}")]
    Announcement(#[from] AnnouncementError),
    /// The stated announcement hash is not SHA-256 of the announcement bytes.
    #[error("announcement hash does not match the announcement")]
    AnnouncementHash,
    /// The participant list is not sorted by bytes and distinct.
    #[error("participant list not canonical at position {0}")]
    ParticipantsNotCanonical(usize),
    /// N does not equal the length of the list.
    #[error("count {declared} does not match {actual} listed participants")]
    CountMismatch {
        /// N as stated.
        declared: u64,
        /// The list's length.
        actual: u64,
    },
    /// The root is not the Merkle root of the list.
    #[error("Merkle root does not match the participant list")]
    RootMismatch,
    /// The announcement names a beacon round but the outcome carries none,
    /// another round, or a round without a beacon in the announcement.
    #[error("beacon round missing or not the announced one")]
    BeaconRound,
    /// The beacon round's signature does not verify under the chain key.
    #[error("beacon round {0} signature does not verify under the chain's public key")]
    BeaconSignature(u64),
    /// The beacon chain is not the pinned one.
    #[error("beacon chain {0} is not the pinned chain")]
    BeaconNotPinned(String),
    /// The VRF proof is invalid for the key and alpha.
    #[error("VRF proof: {0}")]
    Vrf(#[from] VrfError),
    /// β is not proof_to_hash(π).
    #[error("beta does not match the VRF proof")]
    BetaMismatch,
    /// The winners are not the ones the algorithm selects.
    #[error("winners do not match the draw")]
    WinnersMismatch,
    /// A redemption code is not the derived one.
    #[error("redemption code of {0} does not match")]
    RedemptionCodeMismatch(String),
    /// The abnormal outcome's signature or reason is invalid.
    #[error("abnormal outcome signature does not verify")]
    AbnormalSignature,
}

/// What a successfully verified record establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDraw {
    /// The announced lottery.
    pub definition: LotteryDefinition,
    /// SHA-256 of the announcement bytes.
    pub announcement_hash: [u8; 32],
    /// The key that signed and proved; compare it with the pinned key (or
    /// use [`verify_pinned`]).
    pub public_key: PublicKey,
    /// Drawn or abnormal.
    pub state: DrawState,
    /// Merkle root of the participants (drawn only).
    pub root: Option<[u8; 32]>,
    /// N (0 when abnormal).
    pub count: u64,
    /// The seed β (drawn only).
    pub beta: Option<[u8; 64]>,
    /// Winners in draw order, with codes (empty when abnormal or N = 0).
    pub winners: Vec<Winner>,
}

/// Verifies `record` and additionally requires it to use `pinned`.
pub fn verify_pinned(record: &Record, pinned: &PublicKey) -> Result<VerifiedDraw, VerifyError> {
    if record.announcement.public_key != *pinned {
        return Err(VerifyError::KeyNotPinned(
            record.announcement.public_key.to_hex(),
        ));
    }
    verify(record)
}

/// Requires the record's announcement to name the beacon chain `chain`
/// (hash, public key, genesis and period), e.g. [`BeaconChain::quicknet`];
/// then [`verify`]. A record without a beacon fails.
pub fn verify_beacon_pinned(
    record: &Record,
    chain: &BeaconChain,
) -> Result<VerifiedDraw, VerifyError> {
    match &record.announcement.definition.beacon {
        Some(b) if b.chain() == *chain => verify(record),
        Some(b) => Err(VerifyError::BeaconNotPinned(crate::hexfmt::encode(
            &b.chain_hash,
        ))),
        None => Err(VerifyError::BeaconNotPinned("none".to_owned())),
    }
}

/// Re-checks everything in `record`. Never panics on malformed input.
///
/// This checks the record against the key it names; to be sure it is the
/// node group's key, use [`verify_pinned`] or compare
/// [`VerifiedDraw::public_key`].
pub fn verify(record: &Record) -> Result<VerifiedDraw, VerifyError> {
    if record.version != RECORD_VERSION {
        return Err(VerifyError::UnsupportedVersion(record.version));
    }
    let announcement = &record.announcement;
    announcement.verify()?;
    let announcement_hash = announcement.hash();
    if announcement_hash != record.announcement_hash {
        return Err(VerifyError::AnnouncementHash);
    }
    let mut verified = VerifiedDraw {
        definition: announcement.definition.clone(),
        announcement_hash,
        public_key: announcement.public_key,
        state: record.state(),
        root: None,
        count: 0,
        beta: None,
        winners: Vec::new(),
    };
    let drawn = match &record.outcome {
        Outcome::Abnormal(abnormal) => {
            let message = abnormal_bytes(&announcement_hash, &abnormal.reason);
            if abnormal.reason.len() > MAX_FIELD_BYTES
                || !announcement
                    .public_key
                    .verify_signature(&message, &abnormal.signature)
            {
                return Err(VerifyError::AbnormalSignature);
            }
            return Ok(verified);
        }
        Outcome::Drawn(drawn) => drawn,
    };

    let commitment = &drawn.commitment;
    let list = &commitment.participants;
    if let Some(i) = list
        .windows(2)
        .position(|w| w[0].as_bytes() >= w[1].as_bytes())
    {
        return Err(VerifyError::ParticipantsNotCanonical(i + 1));
    }
    if let Some(i) = list
        .iter()
        .position(|p| p.is_empty() || p.len() > MAX_FIELD_BYTES)
    {
        return Err(VerifyError::ParticipantsNotCanonical(i));
    }
    let actual = list.len() as u64;
    if commitment.count != actual {
        return Err(VerifyError::CountMismatch {
            declared: commitment.count,
            actual,
        });
    }
    if merkle::root(list) != commitment.root {
        return Err(VerifyError::RootMismatch);
    }

    let input = match (&announcement.definition.beacon, &drawn.beacon) {
        (None, None) => alpha(&announcement_hash, &commitment.root, commitment.count).to_vec(),
        (Some(b), Some(r)) if r.round == b.round => {
            if !verify_round(&b.public_key, r.round, &r.signature) {
                return Err(VerifyError::BeaconSignature(r.round));
            }
            alpha_with_beacon(
                &announcement_hash,
                &commitment.root,
                commitment.count,
                &r.signature,
            )
        }
        _ => return Err(VerifyError::BeaconRound),
    };
    let beta = vrf::verify(&announcement.public_key, &input, &drawn.proof)?;
    if beta != drawn.beta {
        return Err(VerifyError::BetaMismatch);
    }

    let expected = select_winners(&beta, list, announcement.definition.winners);
    if expected.len() != drawn.winners.len()
        || expected
            .iter()
            .zip(&drawn.winners)
            .any(|(e, w)| *e != w.user_id)
    {
        return Err(VerifyError::WinnersMismatch);
    }
    for winner in &drawn.winners {
        if winner.redemption_code != redemption_code(&beta, &winner.user_id) {
            return Err(VerifyError::RedemptionCodeMismatch(winner.user_id.clone()));
        }
    }

    verified.root = Some(commitment.root);
    verified.count = commitment.count;
    verified.beta = Some(beta);
    verified.winners = drawn.winners.clone();
    Ok(verified)
}
