//! A participant's Merkle inclusion proof in a drawn lottery: one node
//! action behind the public HTTP route and the `lottery_proof` request.

use protocol::{ErrorCode, LotteryProof, MerkleProof, Rejection, RequestId};

use crate::service::Node;

impl Node {
    /// `user`'s audit path in the committed participant set of lottery
    /// `lid` of `room`; `not_found` for an unknown lottery, before the
    /// draw, for an abnormal lottery, or when `user` did not take part.
    pub async fn lottery_proof(
        &self,
        room: &str,
        lid: &str,
        user: &str,
        id: Option<RequestId>,
    ) -> Result<LotteryProof, Rejection> {
        let record = self.store.room(room).await.map_err(|e| e.rejection())?;
        if !record.lotteries.iter().any(|l| l.id == lid) {
            return Err(Rejection::new(
                ErrorCode::NotFound,
                "no such lottery in this room",
            ));
        }
        let json = self
            .lottery_record(room, lid)
            .await?
            .ok_or_else(|| Rejection::new(ErrorCode::NotFound, "the lottery has no record yet"))?;
        let record = lottery::Record::from_json(&json)
            .map_err(|e| Rejection::new(ErrorCode::Internal, format!("stored record: {e}")))?;
        let lottery::Outcome::Drawn(drawn) = &record.outcome else {
            return Err(Rejection::new(
                ErrorCode::NotFound,
                "the lottery ended abnormal: it has no participant set",
            ));
        };
        let list = &drawn.commitment.participants;
        let proof = list
            .iter()
            .position(|p| p == user)
            .and_then(|i| lottery::merkle::prove(list, i))
            .ok_or_else(|| {
                Rejection::new(ErrorCode::NotFound, "not a participant of this lottery")
            })?;
        Ok(LotteryProof {
            id,
            lottery: lid.to_owned(),
            root: lottery::hexfmt::encode(&drawn.commitment.root),
            count: drawn.commitment.count,
            user: user.to_owned(),
            proof: MerkleProof {
                leaf_index: proof.leaf_index,
                tree_size: proof.tree_size,
                audit_path: proof
                    .audit_path
                    .iter()
                    .map(|h| lottery::hexfmt::encode(h))
                    .collect(),
            },
        })
    }
}
