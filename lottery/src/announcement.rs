//! The signed announcement: a lottery definition fixed and signed with the
//! node group's pinned key before the window opens.

use crate::definition::{DefinitionError, Limits, LotteryDefinition};
use crate::keys::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A lottery definition with the Ed25519 signature over its canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// The announced lottery.
    pub definition: LotteryDefinition,
    /// The pinned key that signed it (and will prove the draw).
    pub public_key: PublicKey,
    /// Ed25519 signature over [`LotteryDefinition::canonical_bytes`].
    #[serde(with = "crate::hexfmt::array")]
    pub signature: [u8; 64],
}

/// Why an announcement does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnouncementError {
    /// The definition breaks a structural rule.
    #[error("invalid definition: {0}")]
    Definition(#[from] DefinitionError),
    /// The signature does not verify under the announced key.
    #[error("announcement signature does not verify")]
    BadSignature,
}

/// Validates `definition` against [`Limits::DEFAULT`] and signs it.
pub fn announce(
    definition: LotteryDefinition,
    key: &SecretKey,
) -> Result<Announcement, DefinitionError> {
    announce_with_limits(definition, key, &Limits::DEFAULT)
}

/// Validates `definition` against `limits` and signs it.
pub fn announce_with_limits(
    definition: LotteryDefinition,
    key: &SecretKey,
    limits: &Limits,
) -> Result<Announcement, DefinitionError> {
    definition.check(limits)?;
    let signature = key.sign(&definition.canonical_bytes());
    Ok(Announcement {
        definition,
        public_key: key.public_key(),
        signature,
    })
}

impl Announcement {
    /// SHA-256 of the canonical announcement bytes: the announcement's id in
    /// the VRF input.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.definition.canonical_bytes()).into()
    }

    /// Checks the structural rules and the signature.
    pub fn verify(&self) -> Result<(), AnnouncementError> {
        self.definition.check_structure()?;
        if !self
            .public_key
            .verify_signature(&self.definition.canonical_bytes(), &self.signature)
        {
            return Err(AnnouncementError::BadSignature);
        }
        Ok(())
    }
}
