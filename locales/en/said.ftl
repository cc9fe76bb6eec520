# Texts the spooler stores (a job's reason, an audit entry, an error it answers): written in
# English with these messages, and shown in the reader's language by recognising the English
# text again (src/i18n/restate.rs). So each message is plain text and { $variables } only (no
# selectors), and two variables never stand side by side. A variable named typed holds what a
# person typed (a reason for an action): it is shown as typed, never restated. Variables named
# count, bytes, hours, limit, attempts, blanks, spoiled or max hold whole numbers; one named
# field holds a field of the event contract (nik, address.rt_rw). Times are stored in UTC
# (2026-12-01 15:36 UTC) and shown in the office's zone.

## Admission
said-received = event received; waiting for central's authorization
said-received-with-warnings = event received with warnings: { $warnings }; waiting for central's authorization
said-nik-birth-date = the NIK encodes birth date { $nik_date }, the event states { $date }
said-nik-sex = the NIK encodes sex { $nik_sex }, the event states { $sex }

## Central's answers
said-central-authorized = authorized by central (authorization { $id }, valid until { $until })
said-central-expired = central's authorization { $id } had already expired ({ $at }): asking for a new one
said-central-pending = central has not cleared the record yet (pending)
said-central-denied = central denied the print: { $why }
said-central-bad-credentials = central refused this office's credentials (HTTP 401: { $detail }): held until they are fixed
said-central-rate-limited = central asked this office to slow down (HTTP 429)
said-central-unreachable = central unreachable: { $detail }
said-central-malformed = central's answer could not be used: { $detail }
said-waiting-central-down = { $why }; waiting for central (down since { $since }), next check { $at }
said-asking-again = { $why }; asking again at { $at }
said-event-unreadable-for-central = the job's event cannot be read to ask central ({ $detail }); needs staff
said-awaiting-central = waiting for central's authorization
said-awaiting-central-down = waiting for central's authorization (central down since { $since })
said-awaiting-central-credentials = waiting for central's authorization (central refused this office's credentials since { $since })

## Central's situation
said-central-not-contacted = central not contacted yet
said-central-up-since = central up since { $since }
said-central-degraded-since = central degraded since { $since }
said-central-down-since = central down since { $since }
said-central-credentials-since = central refused this office's credentials since { $since }
said-central-last-error = { $situation } (last error: { $error })
said-central-next-check = { $situation }; next check { $at }
said-central-cards-waiting = { $situation }; { $count } cards waiting
said-central-oldest = { $situation }, the oldest since { $since }

## Checking an authorization before printing
said-no-central-key = central's public key is not configured: the authorization cannot be checked
said-authorization-unreadable = the authorization is not readable: { $detail }
said-authorization-unknown-key = the authorization was signed with key { $got }, but the configured central key is { $expected } (check [central] public_key)
said-authorization-bad-signature = the authorization's signature does not verify with central's configured key
said-authorization-wrong-nik = the authorization is for another NIK
said-authorization-wrong-enrollment = the authorization is for another enrollment ({ $got })
said-authorization-wrong-card = the authorization is for another card: its data (name, photo, signature, ...) differs from what central authorized
said-authorization-wrong-office = the authorization was issued to office { $got }, not this one
said-authorization-expired = the authorization expired at { $at }
said-cannot-print-on-authorization = the authorization cannot be printed on: { $problem }

## Rendering
said-event-no-longer-validates = the event no longer validates: { $error }
said-cannot-render-card = cannot render the card: { $error }
said-cannot-render-test-card = cannot render the test card with template { $template }: { $error }
said-cannot-read-event = cannot read the event from the journal: { $error }
said-renderer-crashed = renderer crashed: { $error }
said-cannot-write-spool = cannot write the spool: { $error }
said-rendered = rendered ({ $bytes } bytes)
said-render-again = waiting to be rendered again: { $why }
said-cannot-render = cannot render: { $why }

## Printing
said-unknown-template = template { $template } is unknown: no printer pool
said-sent-to = sent to { $printer }
said-not-taken = not taken by { $printer }: { $error }
said-printed-on = printed on { $printer }
said-cancelled-at = cancelled at { $printer }
said-aborted-staff-decide = aborted by { $printer } ({ $cause }); { $spoiled } blank(s) spoiled: staff decide
said-aborted-blank-spoiled = aborted by { $printer } ({ $cause }, blank spoiled): back to the queue
said-aborted-no-blank-used = aborted by { $printer } ({ $cause }, no blank used): back to the queue
said-aborted = aborted by { $printer }: { $cause }
said-printer-silent = { $printer } did not answer for { $seconds } s while printing ({ $detail }); whether the card printed is unknown
said-printer-has-no-record = { $printer } has no record of the job (it never got it, or has forgotten it)
said-printer-lost-track = { $printer } lost track of the job ({ $detail })
said-left-printing-no-printer = left printing without a printer on record
said-left-printing-unconfigured = left printing on { $printer }, which is no longer configured

## Printer faults (the printer's own IPP keywords, as staff read them)
said-fault-media-jam = media-jam
said-fault-hopper-empty = media-empty (card hopper)
said-fault-ribbon-empty = marker-supply-empty (ribbon)
said-fault-cover-open = cover-open
said-fault-offline = offline
said-fault-unreachable = unreachable: { $detail }
said-fault-stopped = stopped: { $detail }
said-printer-faulted = faulted: { $faults }
said-printer-not-checked = not checked yet
said-printer-busy = busy with { $count } of { $max } jobs
said-printer-ready = ready
said-printer-paused-by = paused by { $staff }
said-printer-paused-by-because = paused by { $staff }: { $typed }

## Staff actions (the audit trail's words)
said-action-held = held
said-action-released = released
said-action-cancelled = cancelled
said-action-retried = retried
said-action-reprint-ordered = reprint ordered
said-action-marked-spoiled = marked spoiled
said-action-resolved = resolved
said-outcome-printed = printed
said-outcome-not-printed = not printed
said-outcome-spoiled = spoiled
said-resolved-by = resolved by { $staff } as { $outcome }
said-resolved-by-because = resolved by { $staff } as { $outcome }: { $typed }
said-action-by = { $action } by { $staff }
said-action-by-because = { $action } by { $staff }: { $typed }

## Why a card has no estimate
said-no-printer-pool = its template has no printer pool
said-no-printer-up = no printer of pool { $pool } takes cards now
said-pool-idle = pool { $pool } printed no card in the last { $hours } hours
said-central-is-down = central is down
said-central-refuses-credentials = central refuses this office's credentials
said-central-not-running = central authorization does not run here

## Errors staff meet (the API's answers to actions)
said-api-unauthenticated = a valid bearer token is needed (Authorization: Bearer <token>)
said-api-no-tokens = this spooler has no staff tokens: add [[api.tokens]] to its configuration and restart it
said-api-too-many = { $what }: try again in { $seconds } s
said-api-wrong-tokens = too many wrong tokens from this address
said-api-nik-search-limit = { $staff } made { $count } searches by full NIK in the last hour, the limit
said-api-forbidden = { $action } needs the { $needed } role; { $staff } is { $has }
said-role-viewer = viewer
said-role-operator = operator
said-role-supervisor = supervisor
said-api-no-route = no such API route
said-no-job = no job { $job }
said-no-printer = no printer { $printer }
said-job-moved = job { $job } is no longer { $expected } (now { $actual }): it was moved by someone else
said-illegal-transition = a job cannot go from { $from } to { $to }
said-illegal-transition-without-staff = a job cannot go from { $from } to { $to } without staff
said-reason-too-long = the reason is longer than { $max } characters
said-reason-one-line = the reason must be one line of text
said-reason-one-line-at-most = the reason must be one line of at most { $max } characters
said-action-needs-reason = { $action } needs a reason
said-only-resolve-takes-outcome = only resolve takes an outcome
said-resolve-needs-outcome = resolve needs an outcome: printed, not_printed or spoiled
said-not-held = job { $job } is { $state }, not held
said-held-from-unknown = job { $job } is held but not from a known state
said-retry-refused = job { $job } is { $state }: retry is for failed or rejected jobs
said-retry-refused-reprint = job { $job } is { $state }: retry is for failed or rejected jobs (a printed card needs a reprint)
said-reprint-refused = job { $job } is { $state }: only a printed or spoiled card can be reprinted
said-spoiled-refused = job { $job } is { $state }: only a printed card can be marked spoiled
said-spoiled-refused-printing = job { $job } is { $state }: only a printed card can be marked spoiled (wait for the printer to finish)
said-spoiled-refused-unknown = job { $job } is { $state }: only a printed card can be marked spoiled (resolve the job in doubt with outcome spoiled)
said-resolve-refused = job { $job } is { $state }: only a job in doubt (unknown) is resolved
said-payload-purged = job { $job }: its card's data (photo, signature, address) was purged on { $day } when its retention ([journal] payload_retention_days) ended, so the card cannot be drawn again from it: ask upstream to send the enrollment again, as a new event
said-printing-not-running = printing does not run in this spooler
said-rendering-not-running = rendering does not run in this spooler
said-central-off = central authorization does not run in this spooler: { $why }
said-test-card-not-ready = printer { $printer } cannot take a card now ({ $status }); try again when it is ready
said-test-card-no-template = no template prints to pool { $pool }: there is no layout to test
said-test-card-cannot-be-made = the test card cannot be made: { $error }
said-load-cards-range = cards must be 1 to { $max }
said-day-format = { $name } { $date }: use YYYY-MM-DD
said-report-format = format { $format }: use pdf or csv
said-day-order = from { $from } is after to { $to }
said-ledger-days = at most { $max } days at once

## Why an event was refused (the dead-letter queue's reasons, field by field)
said-event-not-json = payload is not JSON: { $error }
said-event-not-object = payload is not a JSON object
said-event-too-large = payload is { $bytes } bytes, more than the limit of { $limit }
said-event-duplicate-key = payload has the key { $key } twice in one object
said-event-check-failed = the spooler failed while checking this event ({ $error }); publish it again once that is fixed
said-field-problem = { $field }: { $problem }
said-respelled = { $field }: { $value } read as { $card }
said-field-not-in-contract = is not a field of the contract (check the spelling)
said-field-not-in-contract-more = is not a field of the contract, nor are { $count } more
said-field-required = is required
said-field-must-be-string = must be a string, got { $got }
said-field-control-characters = must not contain control characters (line breaks, tabs)
said-field-empty = must not be empty
said-field-too-long = must be at most { $max } characters, got { $count }
said-field-one-of = must be one of { $values }, got { $got }
said-field-date = must be a date YYYY-MM-DD, got { $got }
said-field-larger-than = is larger than { $bytes } bytes
said-field-not-base64 = is not valid base64 (standard alphabet, with padding)
said-field-must-be-number = must be the number { $value }, got { $got }
said-field-must-be = must be { $value }, got { $got }
said-field-time = must be an RFC 3339 time with offset, got { $got }
said-field-office = must be the office's 4-digit regency code, got { $got }
said-field-template = must be 1-32 of a-z, 0-9, '-', '_', got { $got }
said-field-name-letters = may contain only letters (with their accents), spaces and . , ' ` ’ -
said-field-before-1900 = is before 1900
said-field-after-enrollment = is after the enrollment (occurred_at)
said-field-valid-until = must be a date YYYY-MM-DD or "SEUMUR HIDUP", got { $got }
said-field-wna-lifetime = must be the residence permit's end date for citizenship WNA, not "SEUMUR HIDUP"
said-field-expired-when-printed = is before the enrollment (occurred_at): the card would be expired when printed
said-field-must-be-object = must be an object, got { $got }
said-field-rt-rw = must be NNN/NNN (e.g. "001/002"), got { $got }
said-image-too-many-bytes = is { $bytes } bytes, more than the limit of { $limit }
said-image-not-jpeg-or-png = is neither a JPEG nor a PNG image
said-image-unreadable = cannot be read as { $format }: { $error }
said-image-too-many-pixels = is { $size } pixels, more than the limit of { $limit } pixels
said-image-no-pixels = has no pixels
said-image-undecodable = cannot be decoded as { $format }: { $error }
said-image-truncated = is a truncated JPEG (no end-of-image marker after the image data)
said-nik-length = must be exactly 16 digits, got { $count } characters
said-nik-digits = must contain only digits 0-9
said-nik-region = region code { $code } is not a real province/regency/district code (00)
said-nik-birth-part = birth date part { $part } is not a date (DDMMYY, the day 01-31 for men or 41-71 for women)
said-nik-serial = serial number 0000 is never issued
said-json-null = null
said-json-boolean = a boolean
said-json-number = a number
said-json-string = a string
said-json-array = an array
said-json-object = an object
said-unknown-state = unknown job state { $given }; the states are { $states }

## What staff are alerted to
said-central-credentials-alert = central refused this office's credentials (HTTP 401: { $detail }). No authorization is asked for until this is fixed: check [central] office and the office's registration with central. cardspool checks again every { $minutes } min, and at once when staff ask for a check or restart with a changed [central] configuration.
said-status-events-unroutable = no queue is bound to exchange { $exchange } for routing key { $routing_key }: upstream binds one (to card.#); until then status events wait in the journal

## Notes on an action that needed nothing done
said-already-held = already held
said-already-cancelled = already cancelled
said-central-asked-now = central is asked now
said-central-flowing = requests to central are flowing already: nothing to check
said-ledger-printed-spoiled = the printed card is recorded spoiled in the blank-card ledger
said-ledger-no-printed-card = no printed card of this job is in the blank-card ledger
said-ledger-no-card-in-doubt = no card in doubt of this job is in the blank-card ledger
said-ledger-printed = the card is recorded printed in the blank-card ledger
said-ledger-spoiled = the card is recorded spoiled in the blank-card ledger
said-ledger-not-fed = the card is recorded not fed (no blank used) in the blank-card ledger

## A printer's errors and the spooler's configuration, as staff see them
said-printer-error-unreachable = printer unreachable: { $detail }
said-printer-error-doubtful = no usable answer from the printer (it may have acted on the request): { $detail }
said-printer-error-busy = printer busy with another job
said-printer-error-no-job = printer has no job { $job }
said-central-key-missing = central.public_key is not configured
said-central-key-demo = central.public_key is a published demo key (anyone can sign with it): configure the registry's key, or let docker-compose.yml's simulator make one
