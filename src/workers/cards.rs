//! The bridge from dispatch to the renderer: a job's card from its journaled event, its
//! template and its authorization.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

use crate::central::{CardFacts, Verifier};
use crate::domain::card_digest::card_digest;
use crate::domain::event::{parse_admitted_event, ImageLimits};
use crate::domain::layout::card::CardContext;
use crate::journal::JobRecord;
use crate::render::{specimen, TemplateStore};
use crate::workers::dispatch::{CardRenderer, RenderFailure};

/// Renders cards with the loaded templates.
pub struct TemplateCards {
    templates: Arc<TemplateStore>,
    issue_place: String,
    /// The office's offset from UTC: the issue date printed on the card is the office's date.
    office_offset: FixedOffset,
    limits: ImageLimits,
    /// This office's code: an authorization must have been issued to it.
    office: String,
    /// Checks each job's stored authorization (signature, NIK, enrollment, expiry) before its
    /// card is made. `None` only when central's key is not configured, and then no job is
    /// ever authorized.
    verifier: Option<Verifier>,
}

impl TemplateCards {
    pub fn new(
        templates: Arc<TemplateStore>,
        issue_place: String,
        office_utc_offset_minutes: i32,
        limits: ImageLimits,
        office: String,
        verifier: Option<Verifier>,
    ) -> Self {
        let office_offset = FixedOffset::east_opt(office_utc_offset_minutes * 60)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is a valid offset"));
        TemplateCards { templates, issue_place, office_offset, limits, office, verifier }
    }
}

impl CardRenderer for TemplateCards {
    fn pool(&self, template: &str) -> Option<String> {
        self.templates.get(template).map(|prepared| prepared.pool().to_owned())
    }

    fn render(&self, job: &JobRecord, payload: &[u8], at: DateTime<Utc>) -> Result<Vec<u8>, RenderFailure> {
        // The event was valid at intake; refusing it now means the rules changed since, which
        // makes it bad data for this spooler as much as at intake.
        let event = parse_admitted_event(payload, &self.limits).map_err(|error| RenderFailure {
            reason: format!("the event no longer validates: {error}"),
            bad_data: true,
            reauthorize: false,
        })?;
        if let Some(verifier) = &self.verifier {
            let stored = job.authorization.as_deref().unwrap_or_default();
            // The digest of the card about to be drawn, from the event itself: an event changed
            // since central authorized it is not printed under that authorization.
            let digest = card_digest(&event, &job.template);
            let card = CardFacts {
                nik: event.nik.as_str(),
                enrollment_id: event.event_id.as_str(),
                office: &self.office,
                card_digest: &digest,
            };
            if let Err(problem) = verifier.check_stored(stored, &card, at) {
                return Err(RenderFailure {
                    reason: format!("the authorization cannot be printed on: {problem}"),
                    bad_data: false,
                    reauthorize: !problem.names_another_card(),
                });
            }
        }
        let context = CardContext {
            job_id: job.id,
            authorization_id: job.authorization_id.clone(),
            issue_place: self.issue_place.clone(),
            issue_date: at.with_timezone(&self.office_offset).date_naive(),
        };
        // A card that cannot be laid out or a missing template needs staff (fix the template or
        // correct the data), not a rejection of the person's card.
        self.templates.render_with(&job.template, &event, &context).map_err(|error| RenderFailure {
            reason: format!("cannot render the card: {error}"),
            bad_data: false,
            reauthorize: false,
        })
    }

    fn test_card(&self, pool: &str, at: DateTime<Utc>) -> Option<Result<Vec<u8>, RenderFailure>> {
        let template = self.templates.template_for_pool(pool)?;
        let context = CardContext {
            issue_place: self.issue_place.clone(),
            issue_date: at.with_timezone(&self.office_offset).date_naive(),
            ..specimen::context()
        };
        Some(template.render(&specimen::event(), &context).map_err(|error| RenderFailure {
            reason: format!("cannot render the test card with template {}: {error}", template.name()),
            bad_data: false,
            reauthorize: false,
        }))
    }
}
