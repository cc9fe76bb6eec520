//! The bridge from dispatch to the renderer: a job's card from its journaled event, its
//! template and its authorization.

use crate::i18n::Lang;
use crate::tr;
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
    /// card is made. `None` when central's key is not usable: then no card is drawn or printed.
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

/// What a card without a checkable authorization gets: it is neither drawn nor printed.
fn no_key() -> RenderFailure {
    RenderFailure { reason: tr!(Lang::En, "said-no-central-key"), bad_data: false, reauthorize: false, passing: false }
}

impl CardRenderer for TemplateCards {
    fn checks_authorizations(&self) -> bool {
        self.verifier.is_some()
    }

    fn pool(&self, template: &str) -> Option<String> {
        self.templates.get(template).map(|prepared| prepared.pool().to_owned())
    }

    fn templates(&self) -> Vec<(String, String)> {
        self.templates
            .names()
            .filter_map(|name| self.templates.get(name).map(|prepared| (name.to_owned(), prepared.pool().to_owned())))
            .collect()
    }

    fn render(&self, job: &JobRecord, payload: &[u8], at: DateTime<Utc>) -> Result<Vec<u8>, RenderFailure> {
        // The event was valid at intake; refusing it now means the rules changed since, which
        // makes it bad data for this spooler as much as at intake.
        let event = parse_admitted_event(payload, &self.limits).map_err(|error| RenderFailure {
            reason: tr!(Lang::En, "said-event-no-longer-validates", error = error.to_string()),
            bad_data: true,
            reauthorize: false,
            passing: false,
        })?;
        let verifier = self.verifier.as_ref().ok_or_else(no_key)?;
        let stored = job.authorization.as_deref().unwrap_or_default();
        // The digest of the card about to be drawn, from the event itself: an event changed
        // since central authorized it is not printed under that authorization.
        let digest = card_digest(&event, &job.template);
        let card = CardFacts {
            nik: Some(event.nik.as_str()),
            enrollment_id: event.event_id.as_str(),
            office: &self.office,
            card_digest: &digest,
        };
        if let Err(problem) = verifier.check_stored(stored, &card, at) {
            return Err(RenderFailure {
                reason: tr!(Lang::En, "said-cannot-print-on-authorization", problem = problem.to_string()),
                bad_data: false,
                reauthorize: !problem.names_another_card(),
                passing: false,
            });
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
            reason: tr!(Lang::En, "said-cannot-render-card", error = error.to_string()),
            bad_data: false,
            reauthorize: false,
            passing: false,
        })
    }

    fn authorization_holds(&self, job: &JobRecord, at: DateTime<Utc>) -> Result<(), RenderFailure> {
        let verifier = self.verifier.as_ref().ok_or_else(no_key)?;
        let stored = job.authorization.as_deref().unwrap_or_default();
        // The digest journaled at admission (the card was drawn from an event that matched it).
        let card = CardFacts {
            nik: None,
            enrollment_id: &job.event_id,
            office: &self.office,
            card_digest: job.card_digest.as_deref().unwrap_or_default(),
        };
        verifier.check_stored(stored, &card, at).map(drop).map_err(|problem| RenderFailure {
            reason: tr!(Lang::En, "said-cannot-print-on-authorization", problem = problem.to_string()),
            bad_data: false,
            reauthorize: !problem.names_another_card(),
            passing: false,
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
            reason: tr!(
                Lang::En,
                "said-cannot-render-test-card",
                template = template.name(),
                error = error.to_string()
            ),
            bad_data: false,
            reauthorize: false,
            passing: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::central::verify::signed_example;
    use crate::domain::job::JobState;

    const DIGEST: &str = "504fd5187e6bd2cbc64679673c495c2bfe437d30183181c233634561731ebe33";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn cards(key: &SigningKey) -> TemplateCards {
        let templates = TemplateStore::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
            .expect("the templates");
        let public = base64::engine::general_purpose::STANDARD.encode(key.verifying_key().as_bytes());
        let verifier = Verifier::from_base64(&public, std::time::Duration::from_secs(60)).unwrap();
        TemplateCards::new(
            Arc::new(templates),
            "MERANGIN".into(),
            420,
            ImageLimits::default(),
            "1502".into(),
            Some(verifier),
        )
    }

    fn job(key: &SigningKey, expires_at: &str) -> JobRecord {
        let authorization = signed_example(key, DIGEST, expires_at);
        JobRecord {
            attempts: 1,
            authorization: Some(serde_json::to_string(&authorization).unwrap()),
            authorization_id: Some("a1".into()),
            card_digest: Some(DIGEST.into()),
            ..JobRecord::example(JobState::Rendered)
        }
    }

    #[test]
    fn the_authorization_is_checked_again_at_the_last_moment() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let cards = cards(&key);
        let rendered = job(&key, "2026-11-28T02:12:00Z");
        assert!(cards.authorization_holds(&rendered, at("2026-11-27T12:00:00Z")).is_ok());

        // It expired while the card waited for a printer: central is asked again.
        let failure = cards.authorization_holds(&rendered, at("2026-11-28T02:12:00Z")).unwrap_err();
        assert!(failure.reauthorize && failure.reason.contains("expired"), "{}", failure.reason);

        // The journal's copy of the card's digest no longer matches the signed one: staff look.
        let altered = JobRecord { card_digest: Some(DIGEST.replace('5', "6")), ..rendered.clone() };
        let failure = cards.authorization_holds(&altered, at("2026-11-27T12:00:00Z")).unwrap_err();
        assert!(!failure.reauthorize && failure.reason.contains("another card"), "{}", failure.reason);

        // Signed by another key: asked for again (central's key may have changed).
        let foreign = job(&SigningKey::from_bytes(&[6; 32]), "2026-11-28T02:12:00Z");
        assert!(cards.authorization_holds(&foreign, at("2026-11-27T12:00:00Z")).unwrap_err().reauthorize);
    }
}
