//! The live preview (直播预告): a text, or an image with a text, that the
//! anchor or an admin sets before the start. It lives in the room record
//! (so every hub holds it), is in the join snapshot of a room that has not
//! started (and after the start when the anchor chose to keep it), and
//! each change is a high-lane `preview` event.

use protocol::{ErrorCode, EventKind, Preview, PreviewChanged, Rejection, RoomStatus};
use serde::{Deserialize, Serialize};

use super::Room;
use crate::service::Node;

/// The preview a room record holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPreview {
    /// The preview text.
    pub text: String,
    /// The image of an image preview.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Whether viewers still see it once the live has started.
    #[serde(default)]
    pub keep_after_start: bool,
}

impl RoomPreview {
    fn shown(&self) -> Preview {
        Preview {
            text: self.text.clone(),
            image_url: self.image_url.clone(),
        }
    }
}

impl Room {
    /// The preview viewers see now: before the start, and after it when
    /// the anchor kept it.
    pub fn shown_preview(&self) -> Option<Preview> {
        let p = self.preview.as_ref()?;
        (self.status == RoomStatus::NotStarted || p.keep_after_start).then(|| p.shown())
    }
}

impl Node {
    /// Sets (or with `None` removes) the room's preview; only before the
    /// start. Publishes the `preview` event.
    pub async fn set_preview(
        &self,
        room: &str,
        preview: Option<RoomPreview>,
    ) -> Result<Room, Rejection> {
        if let Some(p) = &preview {
            self.limits.check_preview(&p.text, p.image_url.as_deref())?;
        }
        let next = preview.clone();
        let updated = self
            .update_room(room, &move |r| {
                if r.status != RoomStatus::NotStarted {
                    return Err(Rejection::new(
                        ErrorCode::InvalidTransition,
                        "the preview is set before the live starts",
                    ));
                }
                r.preview = next.clone();
                Ok(())
            })
            .await
            .map_err(|e| e.rejection())?;
        let kind = EventKind::Preview(PreviewChanged {
            preview: preview.as_ref().map(RoomPreview::shown),
        });
        self.publish(room, kind).await?;
        Ok(updated)
    }
}
