# Texts the spooler stores (a job's reason, an audit entry): written in English with these
# messages, and shown in the reader's language by recognising the English text again
# (src/i18n/restate.rs). So each message is plain text and { $variables } only (no selectors),
# and a variable is never the first thing in a message followed by nothing.

said-not-printing = not printing: { $cause }
