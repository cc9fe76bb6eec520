//! Rendering: authorized jobs drawn into the spool as PDF, the authorization checked first.

use crate::i18n::Lang;
use crate::tr;
use futures_util::StreamExt as _;
use tracing::{debug, info, info_span, warn, Instrument};

use std::collections::HashMap;

use crate::domain::job::{JobId, JobState};
use crate::journal::{JobRecord, JobUpdate, JournalError, Step};

use super::{ask_central_again, ignore_conflict, Dispatch, InHand, RenderFailure, BATCH};

/// What one pass of drawing did.
pub(super) struct DrawingPass {
    pub handled: usize,
    /// Nothing drawn, and some pool has its bound of cards drawn and waiting: what its printers
    /// take, not new authorizations, will let drawing go on.
    pub held_by_bound: bool,
}

/// Where drawing may add cards, by the pools' bounds.
enum RoomToDraw {
    EveryPool,
    /// Some pools are full: the templates of the others. Claimed one template at a time, each
    /// from its own index, since one claim leaving the full pools' templates out would walk their
    /// whole backlog (a pool whose printers stopped, its authorized jobs piling up) to reach the
    /// others' jobs, on the one writer every commit waits for.
    TheseTemplates(Vec<String>),
    NoPool,
}

/// How long a job waits after a passing fault (a full spool disk, the journal away) before it
/// is rendered again.
pub(super) const PASSING_FAULT_RETRY: std::time::Duration = std::time::Duration::from_secs(10);

impl Dispatch {
    /// Renders the authorized jobs due into the spool, a batch at a time: how many it handled.
    /// Each card is drawn on a blocking thread, a few per core at once (`drawing`), then waits
    /// for the spool's flush and the journal's commit without holding its permit: the cores
    /// draw the next cards meanwhile, and the batch's steps meet in few commits. (When a card
    /// held its place until its commit, the stage ran at the pace of the commits, a tenth of
    /// what the cores draw.)
    pub(super) async fn render_authorized(&self) -> Result<DrawingPass, JournalError> {
        let batch = BATCH.min(self.config.max_drawn_waiting);
        let state = JobState::Authorized;
        let (jobs, some_pool_full) = match self.room_to_draw().await? {
            RoomToDraw::NoPool => return Ok(DrawingPass { handled: 0, held_by_bound: true }),
            RoomToDraw::EveryPool => {
                let (now, until) = (self.clock.now(), self.lease_until());
                (self.journal.claim_due(state, &self.instance, now, until, batch).await?, false)
            }
            RoomToDraw::TheseTemplates(templates) => {
                (self.claim_templates_in_turn(state, templates, batch).await?, true)
            }
        };
        let taken: Vec<(JobRecord, InHand)> =
            jobs.into_iter().filter_map(|job| self.take(job.id).map(|in_hand| (job, in_hand))).collect();
        let handled = taken.len();
        let ids: Vec<JobId> = taken.iter().map(|(job, _)| job.id).collect();
        // The batch's events in one read; should it fail, each job reads its own (and meets the
        // error there, as a passing fault of that job).
        let mut payloads = self.journal.payloads(&ids).await.unwrap_or_else(|error| {
            warn!(%error, "cannot read the batch's events together; reading each on its own");
            HashMap::new()
        });
        let with_payloads: Vec<_> =
            taken.into_iter().map(|(job, in_hand)| (payloads.remove(&job.id), job, in_hand)).collect();
        let results: Vec<Result<(), JournalError>> = futures_util::stream::iter(with_payloads)
            .map(|(payload, job, in_hand)| async move {
                let _in_hand = in_hand;
                let span = info_span!("render", job_id = %job.id);
                self.render_one(&job, payload).instrument(span).await
            })
            .buffer_unordered(BATCH as usize)
            .collect()
            .await;
        results.into_iter().collect::<Result<(), _>>()?;
        Ok(DrawingPass { handled, held_by_bound: handled == 0 && some_pool_full })
    }

    /// Which pools have room for a batch of cards (`printing.max_drawn_waiting` drawn and
    /// waiting per pool, counted in the journal, so over every instance). A pool takes cards
    /// again only once a whole batch fits under its bound: drawing then goes on in full batches,
    /// not a few cards after each one printed (a claim, a read of the events and a commit for
    /// every few cards).
    async fn room_to_draw(&self) -> Result<RoomToDraw, JournalError> {
        let bound = self.config.max_drawn_waiting;
        let batch = BATCH.min(bound);
        // Far from the bound (the usual case): one count from the claim index.
        if self.journal.count_in_state(JobState::Rendered).await? + i64::from(BATCH) <= i64::from(bound) {
            return Ok(RoomToDraw::EveryPool);
        }
        let mut by_pool: HashMap<String, i64> = HashMap::new();
        for (template, waiting) in self.journal.count_in_state_by_template(JobState::Rendered).await? {
            if let Some(pool) = self.renderer.pool(&template) {
                *by_pool.entry(pool).or_default() += waiting;
            }
        }
        by_pool.retain(|_, waiting| i64::from(bound) - *waiting < i64::from(batch));
        if by_pool.is_empty() {
            return Ok(RoomToDraw::EveryPool);
        }
        debug!(pools = ?by_pool.keys().collect::<Vec<_>>(), bound, "pools with as many cards drawn and waiting as they may have");
        let with_room: Vec<String> = self
            .renderer
            .templates()
            .into_iter()
            .filter(|(_, pool)| !by_pool.contains_key(pool))
            .map(|(template, _)| template)
            .collect();
        // Every pool full: no claim at all (a claim of no template would find nothing anyway).
        Ok(if with_room.is_empty() { RoomToDraw::NoPool } else { RoomToDraw::TheseTemplates(with_room) })
    }

    /// Renders one authorized job (its event read already, or read here) and journals where it
    /// goes next.
    pub(super) async fn render_one(&self, job: &JobRecord, payload: Option<Vec<u8>>) -> Result<(), JournalError> {
        let step = match self.render_into_spool(job, payload).await {
            Ok(bytes) => Step::system(
                JobState::Authorized,
                JobState::Rendered,
                tr!(Lang::En, "said-rendered", bytes = bytes),
                self.clock.now(),
            )
            .with(JobUpdate { next_attempt_at: Some(None), ..JobUpdate::default() }),
            Err(failure) if failure.reauthorize => {
                info!(reason = %failure.reason, "asking central again before printing");
                ask_central_again(JobState::Authorized, failure.reason, self.clock.now())
            }
            Err(failure) if failure.passing => {
                let now = self.clock.now();
                let until = now + chrono::Duration::from_std(PASSING_FAULT_RETRY).unwrap_or_default();
                warn!(reason = %failure.reason, retry_in_s = PASSING_FAULT_RETRY.as_secs(), "cannot render the card now; trying again");
                let reason = tr!(Lang::En, "said-render-again", why = &failure.reason);
                return self.journal.defer(job.id, JobState::Authorized, until, &reason, now).await;
            }
            Err(failure) => {
                let to = if failure.bad_data { JobState::Rejected } else { JobState::Failed };
                warn!(reason = %failure.reason, "cannot render the card");
                Step::system(
                    JobState::Authorized,
                    to,
                    tr!(Lang::En, "said-cannot-render", why = &failure.reason),
                    self.clock.now(),
                )
            }
        };
        ignore_conflict(self.journal.transition(job.id, &step).await)
    }

    pub(super) async fn render_into_spool(
        &self,
        job: &JobRecord,
        payload: Option<Vec<u8>>,
    ) -> Result<usize, RenderFailure> {
        let payload = match payload {
            Some(payload) => payload,
            None => self.read_payload(job).await?,
        };
        let renderer = self.renderer.clone();
        let spool = self.spool.clone();
        let record = job.clone();
        let at = self.clock.now();
        let permit = self.drawing.clone().acquire_owned().await.expect("the drawing permits are never closed");
        // Drawn and written to the spool in one blocking task; the permit bounds the drawing
        // only, not the wait for the disk.
        tokio::task::spawn_blocking(move || {
            let pdf = renderer.render(&record, &payload, at);
            drop(permit);
            let pdf = pdf?;
            // A full or failing spool disk passes (someone frees space, the disk comes back).
            spool
                .write_blocking(record.id, &pdf)
                .map_err(|e| RenderFailure::passing(tr!(Lang::En, "said-cannot-write-spool", error = e.to_string())))?;
            Ok(pdf.len())
        })
        .await
        .map_err(|e| RenderFailure::lasting(tr!(Lang::En, "said-renderer-crashed", error = e.to_string()), false))?
    }

    async fn read_payload(&self, job: &JobRecord) -> Result<Vec<u8>, RenderFailure> {
        self.journal.payload(job.id).await.map_err(|e| {
            if e.is_retryable() {
                RenderFailure::passing(tr!(Lang::En, "said-cannot-read-event", error = e.to_string()))
            } else {
                RenderFailure::lasting(tr!(Lang::En, "said-cannot-read-event", error = e.to_string()), false)
            }
        })
    }
}
