# The spooler's dashboard texts. Every message has its twin in the other language (a test checks).
# The page fills { $variables } in itself (src/http/dashboard.rs sends them as {name}), so no
# selectors here: a count is said with two messages, -one and -many.

dash-title = cardspool — print room
dash-heading = cardspool — print room
dash-language = Language
dash-token-label = API token
dash-token-placeholder = staff token
dash-token-use = Use token
dash-updated = updated { $when }
dash-token-refused = The API refused the token: enter a staff token above.
dash-cannot-read = Cannot read the spooler's state: { $error }

dash-cards-one = 1 card
dash-cards-many = { $count } cards
dash-blanks-one = 1 blank
dash-blanks-many = { $count } blanks
dash-events-one = 1 distinct event
dash-events-many = { $count } distinct events
dash-deliveries-one = 1 delivery
dash-deliveries-many = { $count } deliveries

dash-waiting-heading = What waits, and why
dash-waiting-authorization-none = Nothing waiting for central's authorization.
dash-waiting-printing-none = Nothing waiting for a printer.
dash-waiting-staff-none = Nothing waiting for staff.
dash-waiting-authorization = { $cards } waiting for central's authorization
dash-waiting-printing = { $cards } waiting for a printer
dash-waiting-staff = { $cards } waiting for staff (failed, in doubt or held)
dash-waiting-since = { $waiting }, the oldest received { $when }.
dash-waiting-now = { $waiting }.
dash-central = Central: { $summary }.
dash-central-alert = Needs staff: { $alert }
dash-central-off = Central authorization does not run in this spooler: no card is authorized or printed.
dash-central-off-because = Central authorization does not run in this spooler: no card is authorized or printed ({ $reason }).
dash-status-events-held = Status events to upstream held back since { $since }: { $reason } ({ $count } waiting).

dash-states-heading = Jobs by state
dash-col-state = state
dash-col-count = jobs
dash-col-oldest = oldest received
dash-total = Total:

dash-printers-heading = Printers
dash-col-printer = printer
dash-col-pool = pool
dash-col-status = status
dash-col-in-flight = jobs
dash-col-blanks = blanks
dash-printing-off = Printing does not run in this spooler.
dash-no-printers = No printers configured.
dash-load-blanks-into = Load blank cards: { $printers }.
dash-blanks-left = { $printer } ({ $blanks } left)
dash-blanks-left-reserve = { $printer } ({ $blanks } left, urgent cards only)
dash-printer-ready = ready
dash-printer-faulted = faulted
dash-printer-paused = paused
dash-printer-unchecked = not checked yet
dash-printer-faults = { $status }: { $faults }
dash-printer-faults-since = { $status }: { $faults } since { $since }
dash-printer-paused-by = { $status } (paused by { $by } since { $since })
dash-printer-paused-by-because = { $status } (paused by { $by } since { $since }: { $reason })
dash-blanks-not-counted = not counted
dash-blanks-low = { $blanks } (low: load blanks)
dash-blanks-reserve = { $blanks } (reserve: urgent cards only)

dash-staff-heading = Needs staff
dash-staff-heading-note = (failed, in doubt, held)
dash-col-job = job
dash-col-name = name
dash-col-nik = NIK
dash-col-why = why
dash-col-since = since
dash-col-act = act
dash-staff-none = No job needs staff.
dash-staff-terminal = The same from a terminal:

dash-find-heading = Find a job
dash-find-heading-note = (name, NIK, event id or job id)
dash-find-placeholder = e.g. HAMIDAH, 1502015203850001, a job id
dash-find-any-state = any state
dash-find-button = Find
dash-find-none = No job matches.
dash-find-one = 1 job.
dash-find-many = { $count } jobs, newest first.
dash-find-more = { $count }+ jobs, newest first.
dash-find-failed = Cannot search: { $error }

dash-report-heading = Daily report
dash-report-about = The day per printer (printed, spoiled, test cards, blanks loaded and left) and for the jobs, with cards printed per hour and a line for the supervisor's signature.
dash-report-day = Day
dash-report-pdf = PDF
dash-report-csv = CSV
dash-report-saved = Daily report saved as { $file }.
dash-report-failed = No report: { $error }

dash-templates-heading = Card templates
dash-col-template = template
dash-col-title = title
dash-col-size = size
dash-template-size-one = { $width } × { $height } mm, 1 side
dash-template-size-many = { $width } × { $height } mm, { $sides } sides
dash-templates-none = No card templates loaded.
dash-template-not-loaded = Not loaded: { $error }
dash-preview-failed = No preview of { $template }: { $error }

dash-rejections-heading = Recent rejections
dash-rejections-heading-note = (events refused at intake, in the dead-letter queue)
dash-rejections-counts = { $events } refused, { $deliveries } in all.
dash-col-last-seen = last seen
dash-col-event = event
dash-col-times = times
dash-no-event-id = (no event id)

dash-action-hold = hold
dash-action-release = release
dash-action-cancel = cancel
dash-action-retry = retry
dash-action-reprint = reprint
dash-action-spoiled = spoiled
dash-action-resolve = resolve
dash-action-estimate = when?
dash-action-slip = slip
dash-action-pause = pause
dash-action-resume = resume
dash-action-test-card = test card
dash-action-load-blanks = load blanks
dash-action-preview = preview

dash-help-hold = The job stops where it is until someone releases it.
dash-help-release = The job goes back to where it was held from.
dash-help-cancel = The job ends without a card. This cannot be undone.
dash-help-retry = The job asks central for authorization again and, once authorized, prints.
dash-help-reprint = A new card is printed for this person, using one more blank.
dash-help-spoiled = The printed card is unusable: its blank is counted spoiled in the ledger.
dash-help-resolve = Look at the printer first: say what became of the card that was in doubt.

dash-act-title = { $action }: job { $job } ({ $name })
dash-act-outcome = What came out of the printer
dash-outcome-choose = choose…
dash-outcome-printed = the card printed fine
dash-outcome-not-printed = no card came out: print it again
dash-outcome-spoiled = a card came out unusable (spoiled blank)
dash-act-reason = Reason
dash-reason-needed = (needed)
dash-reason-optional = (optional)
dash-act-back = Back
dash-act-confirm = Confirm
dash-act-say-outcome = Say what came out of the printer.
dash-job-now = Job { $job } is now { $state }.
dash-job-now-ledger = Job { $job } is now { $state }. { $ledger }.

dash-estimate = { $name } ({ $nik }): { $estimate }.
dash-estimate-failed = No estimate for { $name }: { $error }
dash-slip-failed = No slip for { $name }: { $error }

dash-printer-paused-notice = Printer { $printer } is paused.
dash-printer-resumed-notice = Printer { $printer } is resumed.
dash-pause-failed = Cannot pause printer { $printer }: { $error }
dash-resume-failed = Cannot resume printer { $printer }: { $error }
dash-load-prompt = How many blank cards did you put into { $printer }?
dash-load-not-a-number = Not a number of cards: { $answer }
dash-loaded = { $blanks } loaded into { $printer }: { $total } in it now.
dash-load-failed = Cannot record the blanks for { $printer }: { $error }
dash-test-confirm = Print a test card on { $printer }? It uses a blank, counted as a test card in the ledger.
dash-test-sent = Test card sent to { $printer } as { $card }.
dash-test-failed = No test card on { $printer }: { $error }
