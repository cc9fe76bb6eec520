# Kata-kata yang dipakai di mana-mana: status pekerjaan cetak, bahasa, peran petugas.
# Setiap pesan di sini punya kembaran di ../en/common.ftl (diperiksa oleh tes).

state-received = diterima
state-awaiting_authorization = menunggu otorisasi pusat
state-authorized = sudah diotorisasi
state-rendered = siap cetak
state-printing = sedang dicetak
state-printed = sudah dicetak
state-held = ditahan
state-rejected = ditolak
state-failed = gagal (perlu petugas)
state-cancelled = dibatalkan
state-spoiled = kartu rusak
state-unknown = belum pasti (perlu diperiksa petugas)

language-id = Bahasa Indonesia
language-en = English

role-viewer = pemantau
role-operator = operator
role-supervisor = penyelia
