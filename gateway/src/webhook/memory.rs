//! `WebhookStore` in process (the embedded node): endpoints and the queue
//! in [`MemoryWebhooks`] beside the rooms, one mutex over the queue so a
//! claim and a settle never interleave. Nothing outlives the process, as
//! nothing else of the embedded node does.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::store::{Claimed, Endpoint, Job, Settle, WebhookStore};
use crate::store::{MemoryStore, StoreError};

/// The in-process store's webhook tables.
#[derive(Default)]
pub struct MemoryWebhooks {
    endpoints: Mutex<BTreeMap<String, Endpoint>>,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    /// Entry numbers, in queue order.
    next: u64,
    /// Due now, not claimed.
    ready: BTreeMap<u64, Job>,
    /// Claimed: entry → (consumer, claim expiry, job).
    claimed: HashMap<u64, (String, i64, Job)>,
    /// Waiting for a retry: (due ms, entry) → job.
    delayed: BTreeMap<(i64, u64), Job>,
    /// Dead letters by job id.
    dead: BTreeMap<String, Job>,
}

impl Queue {
    fn push(&mut self, job: Job) {
        self.next += 1;
        self.ready.insert(self.next, job);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn put_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        lock(&self.webhooks().endpoints).insert(endpoint.id.clone(), endpoint.clone());
        Ok(())
    }

    async fn endpoints(&self) -> Result<Vec<Endpoint>, StoreError> {
        Ok(lock(&self.webhooks().endpoints).values().cloned().collect())
    }

    async fn delete_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        Ok(lock(&self.webhooks().endpoints).remove(id).is_some())
    }

    async fn enqueue(&self, jobs: &[Job]) -> Result<(), StoreError> {
        let mut q = lock(&self.webhooks().queue);
        for j in jobs {
            q.push(j.clone());
        }
        Ok(())
    }

    async fn claim(
        &self,
        consumer: &str,
        now: i64,
        max: usize,
        claim_ms: u64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut q = lock(&self.webhooks().queue);
        let due: Vec<(i64, u64)> = q
            .delayed
            .range(..=(now, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            if let Some(job) = q.delayed.remove(&k) {
                q.push(job);
            }
        }
        let until = now + claim_ms as i64;
        let mut out = Vec::new();
        let mut expired: Vec<u64> = q
            .claimed
            .iter()
            .filter(|(_, (_, exp, _))| *exp <= now)
            .map(|(k, _)| *k)
            .collect();
        expired.sort_unstable();
        for k in expired.into_iter().take(max) {
            if let Some(c) = q.claimed.get_mut(&k) {
                *c = (consumer.to_string(), until, c.2.clone());
                out.push(Claimed {
                    token: k.to_string(),
                    job: c.2.clone(),
                });
            }
        }
        while out.len() < max {
            let Some((k, job)) = q.ready.pop_first() else {
                break;
            };
            q.claimed
                .insert(k, (consumer.to_string(), until, job.clone()));
            out.push(Claimed {
                token: k.to_string(),
                job,
            });
        }
        Ok(out)
    }

    async fn settle(
        &self,
        consumer: &str,
        claimed: &Claimed,
        job: &Job,
        how: Settle,
    ) -> Result<bool, StoreError> {
        let Ok(k) = claimed.token.parse::<u64>() else {
            return Ok(false);
        };
        let mut q = lock(&self.webhooks().queue);
        if q.claimed.get(&k).is_none_or(|(c, _, _)| c != consumer) {
            return Ok(false);
        }
        q.claimed.remove(&k);
        match how {
            Settle::Done => {}
            Settle::Retry { due_ms } => {
                q.delayed.insert((due_ms, k), job.clone());
            }
            Settle::Dead => {
                q.dead.insert(job.id.clone(), job.clone());
            }
        }
        Ok(true)
    }

    async fn dead_letters(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let q = lock(&self.webhooks().queue);
        Ok(q.dead
            .iter()
            .filter(|(id, _)| after.is_none_or(|a| id.as_str() > a))
            .take(limit)
            .map(|(_, j)| j.clone())
            .collect())
    }

    async fn replay_dead(&self, id: &str) -> Result<bool, StoreError> {
        let mut q = lock(&self.webhooks().queue);
        let Some(mut job) = q.dead.remove(id) else {
            return Ok(false);
        };
        job.attempts = 0;
        job.last_error = None;
        q.push(job);
        Ok(true)
    }
}
