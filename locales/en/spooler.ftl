# Texts the spooler words for the reader directly (not stored): estimates.
# Every message has its twin in ../id/spooler.ftl (a test checks).

estimate-ended = { $state } since { $since }
estimate-waiting-for-staff = { $state }: waiting for staff ({ $reason })
estimate-waiting-for-central = waiting for central's authorization since { $since }; no estimate while { $central }
estimate-central-since = { $why } since { $since }
estimate-queued = position { $position } of { $of } for pool { $pool }; { $when }
estimate-expected-today = expected about { $time } today
estimate-expected = expected about { $at }
estimate-none = no estimate: { $why }
