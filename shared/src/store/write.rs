//! Every conditional write, in one shape. A use case ([`WritePath`]) says three things, all
//! pure (the time is an input, read once per attempt from the store's clock):
//! 1. **reads**: the keys to look at before writing (often none);
//! 2. **plan**: from what was found, an answer without writing, or a transaction and the
//!    outcome it will have;
//! 3. **decide**: from the conditions that cancelled the transaction, the next [`Step`].
//!
//! [`Store::write`] is the only loop. It does the I/O around those three: one
//! `BatchGetItem` when there is anything to read, one `TransactWriteItems`, and a pause
//! before another attempt when another writer was in the way. It also keeps the request's
//! first answer under its `Idempotency-Key` in the same transaction, and answers a retry
//! from the record, so no use case handles idempotency itself.

use crate::domain::{Idempotency, Now};

use super::backoff::Backoff;
use super::idempotency::{record_item, recorded, Recorded, StoredAnswer, RECORD_ATTRIBUTES};
use super::keys::Key;
use super::transaction::{CommitError, Rejection, Transaction};
use super::{Found, Store, StoreError};

/// What any write can come to besides succeeding: the use case's own refusal `R`, or one of
/// the failures every write path shares.
#[derive(Debug, thiserror::Error)]
pub enum WriteError<R: std::fmt::Debug> {
    /// The request cannot be done as asked (a value taken, a record missing); nothing written.
    #[error("refused: {0:?}")]
    Refused(R),
    /// Other transactions kept holding the same items through every attempt.
    #[error("other transactions kept holding the same items")]
    Contended,
    /// The `Idempotency-Key` was used for another request.
    #[error("the idempotency key was used for another request")]
    KeyReused,
    /// A request with the same `Idempotency-Key` is still in flight.
    #[error("a request with the same idempotency key is in flight")]
    InProgress,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a write stands between attempts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempt {
    /// Another writer was here since the first attempt: read what it did before writing.
    pub look_first: bool,
    /// How often a generated value (a customer code) was replaced after a clash.
    pub regenerated: u32,
}

/// What to read before writing: keys, and the attributes wanted of them (`None`: all).
#[derive(Debug, Default)]
pub struct Reads {
    pub keys: Vec<Key>,
    pub attributes: Option<Vec<&'static str>>,
    /// A whole partition to read as well (one `Query`, sent with the `BatchGetItem`), for a
    /// use case that needs every item of it (renaming an organization: its members and
    /// invitations).
    pub partition: Option<String>,
}

impl Reads {
    pub fn none() -> Self {
        Self::default()
    }

    /// The whole items at `keys`, and nothing else.
    pub fn items(keys: Vec<Key>) -> Self {
        Self {
            keys,
            ..Self::default()
        }
    }
}

/// What a use case makes of what it read.
pub enum Plan<G, T, R> {
    /// Answer without writing.
    Done(T),
    Refuse(R),
    /// Send this transaction; `T` is the outcome once it commits.
    Write(Transaction<G>, T),
}

/// What a use case makes of a cancelled transaction.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T, R> {
    Done(T),
    Refuse(R),
    /// Try again at once, with freshly generated values.
    Regenerate,
    /// Another writer changed what was read: pause, read again, write again.
    LookAgain,
    /// A condition that cannot fail did (an item under a fresh id existed): a bug.
    Impossible(&'static str),
}

/// One use case's pure parts.
pub trait WritePath {
    /// The role each guarded action plays, so a cancellation reads as facts.
    type Guard: Copy + PartialEq + std::fmt::Debug;
    type Outcome;
    type Refusal: std::fmt::Debug;

    fn reads(&self, attempt: &Attempt) -> Reads;

    /// `Err` only when an item read back is unreadable.
    fn plan(
        &self,
        table: &str,
        found: &Found,
        attempt: &Attempt,
        now: Now,
    ) -> Result<PlanOf<Self>, StoreError>;

    /// `Err` only when an item that came back is unreadable. By default, whatever failed
    /// moved on since it was read: read again, and plan over what is there now.
    fn decide(
        &self,
        _rejection: &Rejection<Self::Guard>,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<StepOf<Self>, StoreError> {
        Ok(Step::LookAgain)
    }

    /// The outcome of a retry whose first answer was kept; `seen` holds what was read or
    /// came back with the cancellation, in the same call that found the answer. A replay
    /// that hands out authority builds it from what `seen` says now, never from the answer.
    fn replayed(&self, answer: StoredAnswer, seen: &Found) -> Replay<Self::Outcome>;
}

/// What a path makes of a kept first answer.
#[derive(Debug)]
pub enum Replay<T> {
    Outcome(T),
    /// The key cannot be honoured for this request.
    KeyReused,
    /// What the replay is built from was not seen (the answer came back with a cancellation
    /// that carried too little): read it, with the record, and replay then.
    ReadFirst,
}

/// A path's plan, and its step after a cancellation.
pub type PlanOf<P> =
    Plan<<P as WritePath>::Guard, <P as WritePath>::Outcome, <P as WritePath>::Refusal>;
pub type StepOf<P> = Step<<P as WritePath>::Outcome, <P as WritePath>::Refusal>;

/// A request's `Idempotency-Key` and how its first answer is kept: `answer` is built by the
/// HTTP layer, which alone knows status codes and bodies.
pub struct Idempotent<'a, T> {
    pub record: &'a Idempotency,
    pub answer: &'a (dyn Fn(&T) -> StoredAnswer + Send + Sync),
}

impl Store {
    /// Runs `path` to its outcome: read (when it asks), plan, commit, and on a cancellation
    /// decide; at most [`super::MAX_ATTEMPTS`] commits when other writers are in the way.
    pub(super) async fn write<P: WritePath>(
        &self,
        path: &P,
        idempotent: Option<&Idempotent<'_, P::Outcome>>,
    ) -> Result<P::Outcome, WriteError<P::Refusal>> {
        self.write_after(path, idempotent, None).await
    }

    /// [`Store::write`], its first attempt planned over `seen` instead of its own reads: a
    /// batch reads what every row's path asks for at once, and each row only writes.
    pub(super) async fn write_after<P: WritePath>(
        &self,
        path: &P,
        idempotent: Option<&Idempotent<'_, P::Outcome>>,
        mut seen: Option<Found>,
    ) -> Result<P::Outcome, WriteError<P::Refusal>> {
        let record = idempotent.map(|i| i.record);
        let mut attempt = Attempt::default();
        let mut backoff = Backoff::new();
        loop {
            let now = self.now();
            let found = match seen.take() {
                Some(found) => found,
                None => self.read_first(path, record, &attempt).await?,
            };
            if let Some(kept) = found.record(record, now.unix())? {
                return replay(path, kept, &found)?.ok_or_else(|| {
                    StoreError::internal("a replay lacked what its own reads find").into()
                });
            }
            let (mut tx, outcome) = match path.plan(&self.table, &found, &attempt, now)? {
                Plan::Done(outcome) => return Ok(outcome),
                Plan::Refuse(refusal) => return Err(WriteError::Refused(refusal)),
                Plan::Write(tx, outcome) => (tx, outcome),
            };
            if let Some(idempotent) = idempotent {
                let answer = (idempotent.answer)(&outcome);
                let kept = record_item(idempotent.record, &answer, now.unix());
                tx.keep_answer(kept, now.unix());
            }
            let step = match tx.commit(self).await {
                Ok(()) => return Ok(outcome),
                Err(CommitError::Store(error)) => return Err(error.into()),
                // Another transaction held an item: look at what it did before trying again.
                // Without a key, the client may simply retry; with one, the other request
                // may be this one's own retry, still in flight.
                Err(CommitError::Contended) => {
                    crate::metrics::add(|tally| tally.conflicts += 1);
                    let give_up = match record {
                        Some(_) => WriteError::InProgress,
                        None => WriteError::Contended,
                    };
                    pause(&mut backoff, &mut attempt, give_up).await?;
                    continue;
                }
                Err(CommitError::Rejected(rejection)) => {
                    settle(path, &rejection, record, &attempt, now)?
                }
            };
            match step {
                Step::Done(outcome) => return Ok(outcome),
                Step::Refuse(refusal) => return Err(WriteError::Refused(refusal)),
                Step::Regenerate => {
                    crate::metrics::add(|tally| tally.retries += 1);
                    attempt.regenerated += 1;
                }
                Step::LookAgain => pause(&mut backoff, &mut attempt, WriteError::Contended).await?,
                Step::Impossible(what) => return Err(StoreError::internal(what).into()),
            }
        }
    }

    /// What the path asks to read, with the request's idempotency record when anything is
    /// read at all or another writer was here: one `BatchGetItem`, or no call.
    async fn read_first<P: WritePath>(
        &self,
        path: &P,
        record: Option<&Idempotency>,
        attempt: &Attempt,
    ) -> Result<Found, StoreError> {
        let reads = path.reads(attempt);
        let mut keys = reads.keys;
        if !keys.is_empty() || attempt.look_first || reads.partition.is_some() {
            keys.extend(record.map(Key::idempotency));
        }
        if let Some(pk) = reads.partition {
            let batch = async {
                match keys.is_empty() {
                    true => Ok(Found::default()),
                    false => self.get_many(&keys, None).await,
                }
            };
            let (listed, found) = tokio::join!(self.query_partition(pk, None), batch);
            let mut found = found?;
            found.0.extend(listed?);
            return Ok(found);
        }
        if keys.is_empty() {
            return Ok(Found::default());
        }
        // DynamoDB refuses a projection that names an attribute twice.
        let attributes = reads.attributes.map(|mut attributes| {
            for name in RECORD_ATTRIBUTES {
                if !attributes.contains(&name) {
                    attributes.push(name);
                }
            }
            attributes
        });
        self.get_many(&keys, attributes.as_deref()).await
    }
}

/// Waits before the next attempt, which reads first; `give_up` when every attempt is used.
async fn pause<R: std::fmt::Debug>(
    backoff: &mut Backoff,
    attempt: &mut Attempt,
    give_up: WriteError<R>,
) -> Result<(), WriteError<R>> {
    if !backoff.wait().await {
        return Err(give_up);
    }
    crate::metrics::add(|tally| tally.retries += 1);
    attempt.look_first = true;
    Ok(())
}

/// What a cancellation means: the kept first answer when the request's own record stood in
/// the way, else what the path decides.
fn settle<P: WritePath>(
    path: &P,
    rejection: &Rejection<P::Guard>,
    record: Option<&Idempotency>,
    attempt: &Attempt,
    now: Now,
) -> Result<StepOf<P>, WriteError<P::Refusal>> {
    let kept = match (rejection.kept_answer(), record) {
        (Some(item), Some(record)) => recorded(item, record, now.unix())?,
        _ => None,
    };
    match kept {
        Some(kept) => Ok(match replay(path, kept, &rejection.found())? {
            Some(outcome) => Step::Done(outcome),
            None => Step::LookAgain,
        }),
        None => Ok(path.decide(rejection, attempt, now)?),
    }
}

/// The replay of a kept answer; `None` when the path must read first.
fn replay<P: WritePath>(
    path: &P,
    kept: Recorded,
    seen: &Found,
) -> Result<Option<P::Outcome>, WriteError<P::Refusal>> {
    match kept {
        Recorded::Replay(answer) => match path.replayed(answer, seen) {
            Replay::Outcome(outcome) => Ok(Some(outcome)),
            Replay::KeyReused => Err(WriteError::KeyReused),
            Replay::ReadFirst => Ok(None),
        },
        Recorded::KeyReused => Err(WriteError::KeyReused),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::transaction::Item;
    use super::*;

    /// The time a pure plan or decision is tested at.
    pub fn now() -> Now {
        crate::domain::Clock::system().now()
    }

    /// Every subset of `guards`, each failed guard with no item: what a pure decision is
    /// tested over.
    pub fn every_rejection<G: Copy + PartialEq>(guards: &[G]) -> Vec<(Vec<G>, Rejection<G>)> {
        (0..1u32 << guards.len())
            .map(|mask| {
                let failed: Vec<G> = guards
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, g)| *g)
                    .collect();
                let rejection = Rejection::of(failed.iter().map(|g| (*g, None::<Item>)).collect());
                (failed, rejection)
            })
            .collect()
    }

    #[test]
    fn every_rejection_covers_each_subset_once() {
        let all = every_rejection(&[1, 2, 3]);
        assert_eq!(all.len(), 8);
        assert!(all.iter().any(|(failed, _)| failed.is_empty()));
        assert!(all
            .iter()
            .any(|(failed, r)| failed.len() == 3 && r.failed(2)));
    }
}
