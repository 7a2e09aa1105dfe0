//! The sensitive-word filter of the request path. Word lists (a global one
//! and one per room, each word with a category, each with an allow-list)
//! live in the store with a version counter per list. The global dictionary
//! also holds the shipped default allow-list, and it is scanned first, so
//! global allow-list words apply in every room; the room's detectors
//! (digit runs, URLs) come from the room record. A node compares the stored version of a list
//! with the one its dictionary was built from at most once per tick (not
//! once per comment); when it moved (a change on any node) it reads the
//! list, builds the new automaton aside and swaps it in atomically
//! (`wordfilter::FilterHandle`). A change is therefore in force on the node
//! that made it at once and on every other node within one tick. A room's
//! dictionary is dropped when the node no longer hosts the room.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use dashmap::DashMap;
use protocol::{ErrorCode, Rejection};
use wordfilter::{Dictionary, DictionaryBuilder, FilterHandle, Scanner, Verdict};

use super::{Actor, FilterSettings, WordPolicy, audit};
use super::{ModerationStore, WordChange, WordLists};
use crate::auth::{Action, authorize};
use crate::service::Node;

/// Most words per list.
pub const MAX_WORDS: usize = 10_000;

thread_local! {
    static SCANNER: RefCell<Scanner> = RefCell::new(Scanner::new());
}

/// One list's dictionary and the store version it was built from.
#[derive(Default)]
struct Cached {
    /// Store version of the list in `handle`; `u64::MAX` before the first load.
    version: AtomicU64,
    handle: FilterHandle,
    /// One rebuild at a time per list.
    reload: tokio::sync::Mutex<()>,
    /// When the stored version was last compared, ms since [`EPOCH`] (0:
    /// never, or invalidated).
    checked_ms: AtomicU64,
}

/// The base of `checked_ms`.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn elapsed_ms() -> u64 {
    (EPOCH.elapsed().as_millis() as u64).max(1)
}

impl Cached {
    fn new() -> Cached {
        Cached {
            version: AtomicU64::new(u64::MAX),
            ..Cached::default()
        }
    }

    /// Whether the stored version must be compared now.
    fn due(&self, every_ms: u64) -> bool {
        let at = self.checked_ms.load(Ordering::Acquire);
        at == 0 || elapsed_ms().saturating_sub(at) >= every_ms
    }
}

/// The node's dictionaries: the global list and each room's.
pub struct WordFilters {
    global: Cached,
    rooms: DashMap<String, Arc<Cached>>,
    /// How often at most a list's stored version is compared (the tick).
    recheck_ms: u64,
}

impl Default for WordFilters {
    fn default() -> Self {
        WordFilters::new(0)
    }
}

impl WordFilters {
    /// Dictionaries whose stored versions are compared at most every
    /// `recheck_ms` (0: before every comment).
    pub fn new(recheck_ms: u64) -> Self {
        WordFilters {
            global: Cached::new(),
            rooms: DashMap::new(),
            recheck_ms,
        }
    }

    /// Makes the next comment compare a list's version (it changed here).
    pub fn invalidate(&self, room: Option<&str>) {
        match room {
            None => self.global.checked_ms.store(0, Ordering::Release),
            Some(r) => {
                if let Some(c) = self.rooms.get(r) {
                    c.checked_ms.store(0, Ordering::Release);
                }
            }
        }
    }

    /// Drops the dictionaries of rooms `keep` says no.
    pub fn retain_rooms(&self, keep: impl Fn(&str) -> bool) {
        self.rooms.retain(|room, _| keep(room));
    }

    /// Rooms with a dictionary on this node.
    pub fn rooms_cached(&self) -> usize {
        self.rooms.len()
    }

    /// The current dictionary of a list, rebuilt first when the store holds a
    /// newer version.
    async fn current(
        &self,
        store: &dyn ModerationStore,
        room: Option<&str>,
    ) -> Result<Arc<Dictionary>, Rejection> {
        let cached = room.map(|r| {
            self.rooms
                .entry(r.to_string())
                .or_insert_with(|| Arc::new(Cached::new()))
                .clone()
        });
        let c = cached.as_deref().unwrap_or(&self.global);
        let at = c.checked_ms.load(Ordering::Acquire);
        if !c.due(self.recheck_ms) {
            return Ok(c.handle.load());
        }
        let checked = elapsed_ms();
        // One comparison at a time: under load many comments arrive while a
        // read is in flight, and they use the dictionary held (once one has
        // been built; before that everyone waits for the first build).
        let loaded = c.version.load(Ordering::Acquire) != u64::MAX;
        let claimed = c
            .checked_ms
            .compare_exchange(at, checked, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if loaded && !claimed {
            return Ok(c.handle.load());
        }
        let stored = match store.word_version(room).await {
            Ok(v) => v,
            Err(e) => {
                // Let the next comment try again.
                c.checked_ms.store(0, Ordering::Release);
                return Err(e.rejection());
            }
        };
        if c.version.load(Ordering::Acquire) != stored {
            let _one = c.reload.lock().await;
            if c.version.load(Ordering::Acquire) != stored {
                let lists = store.words(room).await.map_err(|e| e.rejection())?;
                let version = lists.version;
                let b = builder(&lists, room.is_none());
                c.handle.reload(&b).map_err(|e| {
                    tracing::error!(room, error = %e, "word list does not build");
                    Rejection::new(ErrorCode::Internal, "word filter unavailable")
                })?;
                c.version.store(version, Ordering::Release);
            }
        }
        c.checked_ms.store(checked, Ordering::Release);
        Ok(c.handle.load())
    }

    /// Checks a comment: `Ok(None)` passes as is, `Ok(Some(masked))`
    /// delivers the masked text, `Err(filtered)` names the category.
    pub async fn check(
        &self,
        store: &dyn ModerationStore,
        room: &str,
        (action, filter): (WordPolicy, FilterSettings),
        text: &str,
    ) -> Result<Option<String>, Rejection> {
        let global = self.current(store, None).await?;
        let local = self.current(store, Some(room)).await?;
        if global.word_count() == 0 && local.word_count() == 0 && !filter.any() {
            return Ok(None);
        }
        let policy = filter.policy(action);
        let verdict = SCANNER.with(|s| s.borrow_mut().check(text, &[&global, &local], &policy));
        match verdict {
            Verdict::Pass => Ok(None),
            Verdict::Masked { text, .. } => Ok(Some(text)),
            Verdict::Blocked { category } => Err(Rejection::new(
                ErrorCode::Filtered,
                format!("comment blocked by the word filter (category: {category})"),
            )),
        }
    }
}

/// The dictionary of a stored list; the global one also gets the shipped
/// default allow-list.
fn builder(lists: &WordLists, global: bool) -> DictionaryBuilder {
    let mut b = Dictionary::builder();
    for w in &lists.words {
        b.word(&w.word, w.category.as_str());
    }
    for w in &lists.allow {
        b.allow(w);
    }
    // The global dictionary is scanned first, so its copy of the default
    // allow-list covers the room's words too.
    b.default_allow(global);
    b
}

/// Changes a word list and its allow-list (`room: None`: the global list,
/// admins only). Returns the list's new version; this node rebuilds on its
/// next comment, every other node within a tick.
pub async fn change(
    node: &Node,
    actor: &Actor,
    room: Option<&str>,
    change: WordChange<'_>,
) -> Result<u64, Rejection> {
    match room {
        None if actor.role != protocol::Role::Admin => {
            return Err(Rejection::new(
                ErrorCode::Forbidden,
                "the global list is admin only",
            ));
        }
        None => {}
        Some(r) => {
            authorize(actor.role, Action::RoomWords)?;
            node.store.room(r).await.map_err(|e| e.rejection())?;
        }
    }
    for w in change.add {
        node.limits.check_word(&w.word)?;
        node.limits.check_label("category", &w.category)?;
    }
    let others = change
        .remove
        .iter()
        .chain(change.allow_add)
        .chain(change.allow_remove);
    for w in others {
        node.limits.check_word(w)?;
    }
    // Refuse a list the filter cannot build before storing it.
    let mut b = Dictionary::builder();
    for w in change.add {
        b.word(&w.word, w.category.as_str());
    }
    for w in change.allow_add {
        b.allow(w);
    }
    b.build()
        .map_err(|e| Rejection::new(ErrorCode::Invalid, e.to_string()))?;
    let version = node
        .moderation_store
        .change_words(room, change, MAX_WORDS)
        .await
        .map_err(|e| e.rejection())?;
    node.words.invalidate(room);
    let scope = room.unwrap_or(audit::GLOBAL);
    let mut target = format!("+{} -{}", change.add.len(), change.remove.len());
    if !change.allow_add.is_empty() || !change.allow_remove.is_empty() {
        let (a, r) = (change.allow_add.len(), change.allow_remove.len());
        target.push_str(&format!(" allow +{a} -{r}"));
    }
    audit::record(node, actor, scope, "words", &target, None).await;
    Ok(version)
}

/// A list as stored, words and allow-list sorted.
pub async fn list(node: &Node, room: Option<&str>) -> Result<WordLists, Rejection> {
    let mut lists = node
        .moderation_store
        .words(room)
        .await
        .map_err(|e| e.rejection())?;
    lists.words.sort_by(|a, b| a.word.cmp(&b.word));
    lists.allow.sort();
    Ok(lists)
}
