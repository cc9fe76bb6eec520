# Words used everywhere: the job states, the languages, the roles.
# Every message here has its twin in ../id/common.ftl (a test checks).

state-received = received
state-awaiting_authorization = waiting for central's authorization
state-authorized = authorized
state-rendered = rendered
state-printing = printing
state-printed = printed
state-held = held
state-rejected = rejected
state-failed = failed (needs staff)
state-cancelled = cancelled
state-spoiled = spoiled
state-unknown = in doubt (staff check)

language-id = Bahasa Indonesia
language-en = English

role-viewer = viewer
role-operator = operator
role-supervisor = supervisor
