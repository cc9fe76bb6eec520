# The staff CLI's texts (`cardspool status|jobs|printers|central|ledger|rejections|report`).
# Every message has its twin in ../id/cli.ftl (a test checks). Job states come from
# common.ftl (state-*); the API's own texts (reasons, errors, estimates) come in the asked
# language from the API.

## Errors

cli-error-cannot-connect = cannot connect to { $place }: is `cardspool run` running there? (or give its address with --api)
cli-error-timed-out = the spooler at { $place } did not answer in time: it may be overloaded, try again
cli-error-cannot-set-up = cannot set up a connection to { $place }: { $problem }
cli-error-connection-failed = the connection to { $place } failed ({ $problem }): is it a cardspool API?
cli-error-api = { $message } (HTTP { $status })
cli-error-give-token = { $error } — give one with --token or CARDSPOOL_TOKEN
cli-error-unexpected = the API's answer is not what this command expects: no { $list } list
cli-error-not-cardspool = the service at { $place } is not a cardspool API (it answered { $answer }): check --api
cli-error-api-scheme = --api { $url } must start with http:// or https://
cli-error-api-url = --api { $url }: { $problem }
cli-error-certificate = the API's certificate { $path }: { $problem }
cli-error-cannot-write = cannot write { $path }: { $problem }

## Finding a job

cli-no-id-starts-with = no job id starts with { $given }; the search finds these, give one's id:
cli-no-job-by-id = no job matches { $given } (a job id or its first characters)
cli-no-job-matches = no job matches { $given } (a job id or its first characters, an event id, a full NIK or part of a name)
cli-jobs-match-give-more = { $count } jobs match { $given }; give more of the id:
cli-jobs-match-or-more-give-more = { $count } or more jobs match { $given }; give more of the id:
cli-jobs-match-give-one = { $count } jobs match { $given }; give one's id:
cli-jobs-match-or-more-give-one = { $count } or more jobs match { $given }; give one's id:
cli-where-none = no job found for { $query } (a full NIK, a job id or part of a name)

## Jobs

cli-no-jobs = no jobs
cli-more-jobs = more: --cursor { $cursor }
cli-job-already = job { $job }: already { $state }
cli-job-now = job { $job }: { $state } — { $reason }
cli-priority-urgent = urgent
cli-priority-normal = normal
cli-actor-system = system
cli-section-history = history
cli-section-cards = cards

## Column headers

cli-col-id = ID
cli-col-state = STATE
cli-col-office = OFFICE
cli-col-nik = NIK
cli-col-name = NAME
cli-col-printer = PRINTER
cli-col-updated = UPDATED
cli-col-reason = REASON
cli-col-received = RECEIVED
cli-col-at = AT
cli-col-step = STEP
cli-col-by = BY
cli-col-sent = SENT
cli-col-outcome = OUTCOME
cli-col-last-seen = LAST SEEN
cli-col-event = EVENT
cli-col-times = TIMES
cli-col-why = WHY
cli-col-pool = POOL
cli-col-jobs = JOBS
cli-col-blanks = BLANKS
cli-col-device = DEVICE
cli-col-checked = CHECKED
cli-col-status = STATUS
cli-col-day = DAY
cli-col-printed = PRINTED
cli-col-spoiled = SPOILED
cli-col-test = TEST
cli-col-not-fed = NOT FED
cli-col-cancelled = CANCELLED
cli-col-unknown = UNKNOWN
cli-col-on-printer = ON PRINTER
cli-col-blanks-used = BLANKS USED

## Labels of `jobs show`, `central status` and `status`

cli-label-job = job
cli-label-event = event
cli-label-state = state
cli-label-reason = reason
cli-label-held-from = held from
cli-label-name = name
cli-label-nik = NIK
cli-label-office = office
cli-label-template = template
cli-label-priority = priority
cli-label-attempts = attempts
cli-label-next-attempt = next attempt
cli-label-authorized = authorized
cli-label-expires = expires
cli-label-printer = printer
cli-label-received = received
cli-label-warning = warning
cli-label-actions = actions
cli-label-central = central
cli-label-alert = alert
cli-label-breaker = breaker
cli-label-failures = failures
cli-label-last-error = last error
cli-label-last-success = last success
cli-label-next-check = next check
cli-label-paused-until = paused until
cli-label-waiting = waiting
cli-label-queue = waiting
cli-label-printers = printers
cli-label-upstream = upstream
cli-label-refused = refused

## Cards of the blank-card ledger

cli-outcome-sent = on the printer
cli-outcome-printed = printed
cli-outcome-spoiled = spoiled
cli-outcome-not_fed = not fed
cli-outcome-cancelled = cancelled
cli-outcome-unknown = unknown
cli-outcome-test = test card
cli-ledger-span = { $from } to { $to }
cli-ledger-empty = no cards in the ledger for { $span }
cli-ledger-total = total

## Central

cli-central-state-unknown = unknown
cli-central-state-up = up
cli-central-state-degraded = degraded
cli-central-state-down = down
cli-central-state-credentials_refused = credentials refused
cli-breaker-closed = closed
cli-breaker-open = open
cli-breaker-credentials_refused = credentials refused
cli-since = { $what } since { $since }
cli-since-time = since { $since }
cli-central-asked = central is asked now
cli-central-flowing = requests to central are flowing already: nothing to check
cli-central-no-answer = no answer from central within { $wait } s; `cardspool central status` shows it when it comes
cli-central-not-here = not running here
cli-cards = { $count ->
    [one] 1 card
   *[other] { $count } cards
}
cli-cards-oldest-since = { $count ->
    [one] 1 card
   *[other] { $count } cards
}, the oldest since { $since }

## Printers and their blanks

cli-printer-unchecked = unchecked
cli-printer-ready = ready
cli-printer-faulted = faulted
cli-printer-paused = paused
cli-printer-paused-by = paused by { $by } since { $since }
cli-printer-test-sent = { $printer }: test card sent as { $card } (counted as a test card in the blank-card ledger)
cli-printer-loaded = { $printer }: { $cards ->
    [one] 1 blank
   *[other] { $cards } blanks
} loaded; { $blanks }
cli-no-printers = no printers configured
cli-blanks = { $count ->
    [one] 1 blank
   *[other] { $count } blanks
}
cli-blanks-low = { $count ->
    [one] 1 blank
   *[other] { $count } blanks
} (low)
cli-blanks-reserve = { $count ->
    [one] 1 blank
   *[other] { $count } blanks
} (reserve: urgent cards only)

## `cardspool status`

cli-status-central-off = does not run in this spooler ({ $why }): no card is authorized or printed
cli-status-waiting-central = { $count ->
    [one] 1 card
   *[other] { $count } cards
} for central
cli-status-waiting-printer = { $count ->
    [one] 1 card
   *[other] { $count } cards
} for a printer
cli-status-waiting-staff = { $count ->
    [one] 1 card
   *[other] { $count } cards
} for staff
cli-status-oldest = { $waiting }, the oldest received { $since }
cli-status-no-printing = printing does not run in this spooler
cli-status-no-printers = none configured
cli-status-upstream-held = status events held back since { $since }: { $reason } ({ $count } waiting)
cli-status-refused = { $events ->
    [one] 1 distinct event
   *[other] { $events } distinct events
}, { $deliveries ->
    [one] 1 delivery
   *[other] { $deliveries } deliveries
} in all

## Rejections and reports

cli-no-event-id = (no event id)
cli-rejections-count = { $events ->
    [one] 1 distinct event
   *[other] { $events } distinct events
} refused, { $deliveries ->
    [one] 1 delivery
   *[other] { $deliveries } deliveries
} in all
cli-report-written = daily report ({ $format }, { $bytes } bytes) written to { $path }
